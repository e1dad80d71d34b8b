"""Pillow's `Image`, with the largest picture it reads raised to a 200 MP phone photo's.

Pillow refuses a picture of over twice `Image.MAX_IMAGE_PIXELS` (179 MP by default) as
a possible decompression bomb: a Galaxy S23/S24 Ultra's 200 MP photo (16320 x 12240,
a ~27 MB JPEG) given in goals.yaml was refused ("save a smaller copy"). The modules that
read a person's photos take `Image` from here, so the limit is set before any of them
opens one. A JPEG is decoded at a reduced scale where the size used allows (`draft`),
so such a photo costs little memory; the limit still turns away a small file that claims
billions of pixels.
"""

from PIL import Image

#: the most pixels a picture may have (twice `Image.MAX_IMAGE_PIXELS`, where Pillow
#: refuses one): over the 200 MP of today's largest phone photos
MAX_PICTURE_PIXELS = 300_000_000

Image.MAX_IMAGE_PIXELS = MAX_PICTURE_PIXELS // 2

__all__ = ["MAX_PICTURE_PIXELS", "Image"]
