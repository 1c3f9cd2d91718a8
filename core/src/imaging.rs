//! Public copies of photos (issue 11, Đ.4 and Đ.8.1): each decodable image is re-encoded as a
//! plain JPEG, with its EXIF orientation applied and no metadata at all (no EXIF, XMP, IPTC or
//! ICC profile: the encoder writes none), plus a thumbnail (made from the public copy on its
//! first request, [`make_thumbnail`]). The GPS position in the original's
//! EXIF is read first and returned, for staff only.
//!
//! Decoding stays within limits: the dimensions are read from the header and an image with
//! more pixels than allowed (a decompression bomb: a tiny file declaring 60,000 × 60,000
//! pixels) is refused before any pixel buffer is allocated; the decoder also gets an
//! allocation cap as a second guard.

use crate::model::GeoPoint;
use image::codecs::jpeg::JpegEncoder;
use image::metadata::Orientation;
use image::{DynamicImage, ImageFormat, ImageReader, Limits};
use std::io::Cursor;

/// JPEG quality of the public copy and the thumbnail.
const QUALITY: u8 = 85;

/// Limits of one run, from `[media]`.
#[derive(Debug, Clone, Copy)]
pub struct ImageLimits {
    pub max_pixels: u64,
    pub public_px: u32,
    pub thumbnail_px: u32,
}

/// The two public copies (JPEG bytes) and what was read from the original.
#[derive(Debug, Clone)]
pub struct Derivatives {
    pub public_jpeg: Vec<u8>,
    pub thumbnail_jpeg: Vec<u8>,
    pub width: u32,
    pub height: u32,
    pub gps: Option<GeoPoint>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageError {
    #[error("image of {width}x{height} pixels is over the limit")]
    TooManyPixels { width: u32, height: u32 },
    #[error("image cannot be decoded: {0}")]
    Undecodable(String),
    #[error("image cannot be encoded: {0}")]
    Encode(String),
}

impl ImageError {
    /// The reason shown to the uploader.
    pub fn message_vi(&self) -> String {
        match self {
            ImageError::TooManyPixels { width, height } => format!(
                "Ảnh có kích thước {width} × {height} điểm ảnh, vượt quá giới hạn cho phép."
            ),
            ImageError::Undecodable(_) => {
                "Không đọc được ảnh: tệp bị hỏng hoặc không phải ảnh hợp lệ.".into()
            }
            ImageError::Encode(_) => "Không xử lý được ảnh; vui lòng thử ảnh khác.".into(),
        }
    }
}

/// Whether we can decode (and so publish a copy of) images of this content type. HEIC/HEIF
/// is accepted for upload but has no well-kept pure-Rust decoder: such photos stay private.
pub fn can_derive(content_type: &str) -> bool {
    matches!(content_type, "image/jpeg" | "image/png" | "image/webp")
}

/// EXIF orientation (1..=8) and GPS position of an image, when it has EXIF.
fn read_exif(bytes: &[u8]) -> (Option<u32>, Option<GeoPoint>) {
    let Ok(exif) = exif::Reader::new().read_from_container(&mut Cursor::new(bytes)) else {
        return (None, None);
    };
    let orientation = exif
        .get_field(exif::Tag::Orientation, exif::In::PRIMARY)
        .and_then(|f| f.value.get_uint(0));
    (orientation, gps_of(&exif))
}

fn degrees(exif: &exif::Exif, tag: exif::Tag, ref_tag: exif::Tag, negative: &str) -> Option<f64> {
    let field = exif.get_field(tag, exif::In::PRIMARY)?;
    let exif::Value::Rational(ref parts) = field.value else {
        return None;
    };
    if parts.len() < 3 || parts.iter().any(|r| r.denom == 0) {
        return None;
    }
    let v = parts[0].to_f64() + parts[1].to_f64() / 60.0 + parts[2].to_f64() / 3600.0;
    let sign = exif
        .get_field(ref_tag, exif::In::PRIMARY)
        .map(|f| f.display_value().to_string())
        .is_some_and(|r| r.trim().eq_ignore_ascii_case(negative));
    Some(if sign { -v } else { v })
}

fn gps_of(exif: &exif::Exif) -> Option<GeoPoint> {
    let lat = degrees(exif, exif::Tag::GPSLatitude, exif::Tag::GPSLatitudeRef, "S")?;
    let lon = degrees(
        exif,
        exif::Tag::GPSLongitude,
        exif::Tag::GPSLongitudeRef,
        "W",
    )?;
    let p = GeoPoint { lat, lon };
    p.is_valid().then_some(p)
}

fn reader(bytes: &[u8], format: ImageFormat) -> ImageReader<Cursor<&[u8]>> {
    let mut r = ImageReader::new(Cursor::new(bytes));
    r.set_format(format);
    r
}

fn encode(img: &DynamicImage) -> Result<Vec<u8>, ImageError> {
    let mut out = Vec::new();
    let mut enc = JpegEncoder::new_with_quality(&mut out, QUALITY);
    match img {
        // JPEG has no alpha: other layouts are converted (a copy) first.
        DynamicImage::ImageRgb8(_) | DynamicImage::ImageLuma8(_) => enc.encode_image(img),
        other => enc.encode_image(&DynamicImage::ImageRgb8(other.to_rgb8())),
    }
    .map_err(|e| ImageError::Encode(e.to_string()))?;
    Ok(out)
}

/// Decodes `bytes` (of `content_type`, one of [`can_derive`]) within `limits` and makes the
/// public copy and the thumbnail.
pub fn make_derivatives(
    bytes: &[u8],
    content_type: &str,
    limits: &ImageLimits,
) -> Result<Derivatives, ImageError> {
    let (public, gps) = decode_public(bytes, content_type, limits)?;
    let thumb = public.thumbnail(limits.thumbnail_px, limits.thumbnail_px);
    Ok(Derivatives {
        public_jpeg: encode(&public)?,
        thumbnail_jpeg: encode(&thumb)?,
        width: public.width(),
        height: public.height(),
        gps,
    })
}

/// The public copy alone, what the upload check makes (issue 10: the thumbnail is made from
/// it on its first request, [`make_thumbnail`]).
#[derive(Debug, Clone)]
pub struct PublicCopy {
    pub jpeg: Vec<u8>,
    pub gps: Option<GeoPoint>,
}

/// [`make_derivatives`] without the thumbnail.
pub fn make_public_copy(
    bytes: &[u8],
    content_type: &str,
    limits: &ImageLimits,
) -> Result<PublicCopy, ImageError> {
    let (public, gps) = decode_public(bytes, content_type, limits)?;
    Ok(PublicCopy {
        jpeg: encode(&public)?,
        gps,
    })
}

/// The thumbnail of a public copy (a JPEG we encoded), decoded within the same limits as an
/// upload: at most `thumbnail_px` on its long side, no metadata.
pub fn make_thumbnail(public_jpeg: &[u8], limits: &ImageLimits) -> Result<Vec<u8>, ImageError> {
    let img = decode_within(public_jpeg, ImageFormat::Jpeg, limits)?;
    encode(&img.thumbnail(limits.thumbnail_px, limits.thumbnail_px))
}

/// Decodes `bytes` within the pixel limit: the header first (no pixel buffer yet), then the
/// image under an allocation cap.
fn decode_within(
    bytes: &[u8],
    format: ImageFormat,
    limits: &ImageLimits,
) -> Result<DynamicImage, ImageError> {
    let (width, height) = reader(bytes, format)
        .into_dimensions()
        .map_err(|e| ImageError::Undecodable(e.to_string()))?;
    if u64::from(width) * u64::from(height) > limits.max_pixels {
        return Err(ImageError::TooManyPixels { width, height });
    }
    let mut r = reader(bytes, format);
    let mut caps = Limits::default();
    // RGBA at 8 bits is the largest buffer a photo decodes to; allow some decoder overhead.
    caps.max_alloc = Some(limits.max_pixels.saturating_mul(4).saturating_add(64 << 20));
    r.limits(caps);
    r.decode()
        .map_err(|e| ImageError::Undecodable(e.to_string()))
}

/// The public image of an upload: decoded within limits, scaled to `public_px`, turned
/// upright; and the GPS position of its EXIF.
fn decode_public(
    bytes: &[u8],
    content_type: &str,
    limits: &ImageLimits,
) -> Result<(DynamicImage, Option<GeoPoint>), ImageError> {
    let format = match content_type {
        "image/jpeg" => ImageFormat::Jpeg,
        "image/png" => ImageFormat::Png,
        "image/webp" => ImageFormat::WebP,
        other => return Err(ImageError::Undecodable(format!("no decoder for {other}"))),
    };
    let (orientation, gps) = read_exif(bytes);
    let img = decode_within(bytes, format, limits)?;
    // Scale down first (area averaging, no floating-point intermediate buffer), then turn the
    // smaller copy: the bounds are square, so the order does not change the result, and the
    // full-size image is dropped before anything else is allocated.
    let mut public = if img.width().max(img.height()) > limits.public_px {
        img.thumbnail(limits.public_px, limits.public_px)
    } else {
        img
    };
    if let Some(o) = orientation
        .and_then(|v| u8::try_from(v).ok())
        .and_then(Orientation::from_exif)
    {
        public.apply_orientation(o);
    }
    Ok((public, gps))
}
