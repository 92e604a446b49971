"""Checks that a PNG written by a tool is a real picture: readable, of the expected size, not blank."""
from PIL import Image

MIN_COLOURS = 16  # a blank or single-colour canvas has 1; a plot or a picture has hundreds
MIN_INK = 0.02    # share of pixels that differ from the most common (background) colour


def assert_real_png(path, size):
    """``path`` is a PNG of ``size`` = (width, height) pixels in RGB(A), with visible content."""
    with Image.open(path) as image:
        assert image.format == 'PNG', f'{path} is a {image.format}, not a PNG'
        assert image.mode in ('RGB', 'RGBA'), f'{path} has mode {image.mode}'
        assert image.size == tuple(size), f'{path} is {image.size}, expected {tuple(size)} (width, height)'
        colours = image.convert('RGB').getcolors(maxcolors=image.size[0] * image.size[1])
    assert len(colours) >= MIN_COLOURS, f'{path} has only {len(colours)} colours: blank?'
    background = max(count for count, _ in colours)
    ink = 1 - background / (size[0] * size[1])
    assert ink >= MIN_INK, f'{path} is {100 * (1 - ink):.1f}% one colour: blank?'
