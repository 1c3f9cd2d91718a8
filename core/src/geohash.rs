//! Geohash cells: the spatial key of the duplicate check's index (Đ.5 hints: same category,
//! near, recent).
//!
//! Why it exists: a store without a spatial index (DynamoDB) can find the reports near a point
//! only by a key it can query exactly. A geohash (base-32, bits of longitude and latitude
//! interleaved, longitude first) names a rectangular cell; every point has one cell per
//! precision, and [`cells_covering`] lists the cells a disc touches, so "every point within
//! `r` of `p`" is "every point stored under one of these cells" followed by the exact distance
//! check (`routing::distance_m`). It must stay the standard geohash (other tools, maps and the
//! known test values agree), and never decide what is a duplicate (that is `routing`'s).

use crate::model::GeoPoint;

const BASE32: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";

/// Longest geohash produced (55 bits: the cell indexes fit in `u64`).
pub const MAX_PRECISION: usize = 11;

/// Mean Earth radius, as `routing::distance_m`.
const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// Bits of longitude and of latitude in a geohash of `precision` characters.
fn bits(precision: usize) -> (u32, u32) {
    let total = 5 * precision as u32;
    (total.div_ceil(2), total / 2)
}

/// Index of the cell holding `v` on an axis of `[min, min + span]` cut in `2^bits` cells.
fn axis_index(v: f64, min: f64, span: f64, bits: u32) -> u64 {
    let n = 1u64 << bits;
    let i = ((v - min) / span * n as f64).floor();
    // The upper edge (lat 90, lon 180) belongs to the last cell.
    (i.max(0.0) as u64).min(n - 1)
}

/// The geohash of the cell with longitude index `ix` and latitude index `iy`.
fn from_indexes(ix: u64, iy: u64, precision: usize) -> String {
    let (lon_bits, lat_bits) = bits(precision);
    let mut out = String::with_capacity(precision);
    let (mut lon_left, mut lat_left) = (lon_bits, lat_bits);
    let mut ch = 0u8;
    for k in 0..5 * precision {
        // Even bits (from the first) are longitude, odd ones latitude.
        let bit = if k % 2 == 0 {
            lon_left -= 1;
            (ix >> lon_left) & 1
        } else {
            lat_left -= 1;
            (iy >> lat_left) & 1
        };
        ch = (ch << 1) | bit as u8;
        if k % 5 == 4 {
            out.push(BASE32[ch as usize] as char);
            ch = 0;
        }
    }
    out
}

/// The geohash of `p` with `precision` characters (1 to [`MAX_PRECISION`]; clamped).
pub fn encode(p: GeoPoint, precision: usize) -> String {
    let precision = precision.clamp(1, MAX_PRECISION);
    let (lon_bits, lat_bits) = bits(precision);
    from_indexes(
        axis_index(p.lon, -180.0, 360.0, lon_bits),
        axis_index(p.lat, -90.0, 180.0, lat_bits),
        precision,
    )
}

/// Height and width, in degrees, of a cell of `precision` characters.
pub fn cell_size_deg(precision: usize) -> (f64, f64) {
    let (lon_bits, lat_bits) = bits(precision.clamp(1, MAX_PRECISION));
    (
        180.0 / (1u64 << lat_bits) as f64,
        360.0 / (1u64 << lon_bits) as f64,
    )
}

/// The cells of `precision` characters that the disc of `radius_m` metres around `center`
/// touches (its bounding box, widened by 1 %), or `None` when that is more than `max_cells`
/// cells (a radius large for the precision: read by other means). Each cell once, in row
/// order. Near the poles the box is the full longitude range (then usually too many cells).
pub fn cells_covering(
    center: GeoPoint,
    radius_m: f64,
    precision: usize,
    max_cells: usize,
) -> Option<Vec<String>> {
    if !center.is_valid() || !radius_m.is_finite() || radius_m < 0.0 {
        return None;
    }
    let precision = precision.clamp(1, MAX_PRECISION);
    let (lon_bits, lat_bits) = bits(precision);
    let dlat = (radius_m * 1.01 / EARTH_RADIUS_M).to_degrees();
    let (lat_lo, lat_hi) = (
        (center.lat - dlat).max(-90.0),
        (center.lat + dlat).min(90.0),
    );
    // The box is widest in longitude at its poleward edge.
    let widest = lat_lo.abs().max(lat_hi.abs()).to_radians().cos();
    let dlon = if widest > 1e-9 { dlat / widest } else { 180.0 };
    let (iy_lo, iy_hi) = (
        axis_index(lat_lo, -90.0, 180.0, lat_bits),
        axis_index(lat_hi, -90.0, 180.0, lat_bits),
    );
    let n_lon = 1u64 << lon_bits;
    let ix_lo = axis_index(center.lon - dlon, -180.0, 360.0, lon_bits);
    let ix_hi = axis_index(center.lon + dlon, -180.0, 360.0, lon_bits);
    let mut xs: Vec<u64> = Vec::new();
    if dlon >= 180.0 {
        if n_lon as usize > max_cells {
            return None;
        }
        xs.extend(0..n_lon);
    } else {
        // Across the antimeridian the box wraps around.
        let wraps_west = center.lon - dlon < -180.0;
        let wraps_east = center.lon + dlon > 180.0;
        xs.extend(ix_lo..=ix_hi);
        if wraps_west {
            let from = axis_index(center.lon - dlon + 360.0, -180.0, 360.0, lon_bits);
            xs.extend(from..n_lon);
        }
        if wraps_east {
            let to = axis_index(center.lon + dlon - 360.0, -180.0, 360.0, lon_bits);
            xs.extend(0..=to);
        }
        xs.sort_unstable();
        xs.dedup();
    }
    let rows = (iy_hi - iy_lo + 1) as usize;
    if rows.saturating_mul(xs.len()) > max_cells {
        return None;
    }
    let mut out = Vec::with_capacity(rows * xs.len());
    for iy in iy_lo..=iy_hi {
        for &ix in &xs {
            out.push(from_indexes(ix, iy, precision));
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routing::distance_m;

    fn pt(lat: f64, lon: f64) -> GeoPoint {
        GeoPoint { lat, lon }
    }

    #[test]
    fn encodes_the_published_examples() {
        // Gustavo Niemeyer's original examples (geohash.org) and the Wikipedia article's.
        assert_eq!(encode(pt(57.64911, 10.40744), 11), "u4pruydqqvj");
        assert_eq!(encode(pt(42.6, -5.6), 5), "ezs42");
        assert_eq!(encode(pt(-25.382708, -49.265506), 8), "6gkzwgjz");
        assert_eq!(encode(pt(0.0, 0.0), 1), "s");
        assert_eq!(encode(pt(-90.0, -180.0), 4), "0000");
        assert_eq!(encode(pt(90.0, 180.0), 4), "zzzz");
    }

    #[test]
    fn a_prefix_is_the_coarser_cell() {
        let p = pt(22.3964, 103.4582);
        let long = encode(p, 9);
        for k in 1..9 {
            assert_eq!(encode(p, k), long[..k]);
        }
    }

    #[test]
    fn cell_sizes_are_the_standard_ones() {
        let (h, w) = cell_size_deg(5);
        assert!((h - 180.0 / 4096.0).abs() < 1e-12 && (w - 360.0 / 8192.0).abs() < 1e-12);
        let (h, w) = cell_size_deg(6);
        assert!((h - 180.0 / 32768.0).abs() < 1e-12 && (w - 360.0 / 32768.0).abs() < 1e-12);
    }

    #[test]
    fn a_point_far_from_the_edges_needs_its_own_cell_only() {
        // The middle of a precision-5 cell (about 4.5 km square at this latitude).
        let (h, w) = cell_size_deg(5);
        let lat0 = (22.39 / h).floor() * h;
        let lon0 = (103.45 / w).floor() * w;
        let mid = pt(lat0 + h / 2.0, lon0 + w / 2.0);
        let cells = cells_covering(mid, 150.0, 5, 9).expect("few cells");
        assert_eq!(cells, vec![encode(mid, 5)]);
    }

    #[test]
    fn a_point_near_a_corner_needs_the_four_cells_around_it() {
        let (h, w) = cell_size_deg(5);
        let lat0 = (22.39 / h).floor() * h;
        let lon0 = (103.45 / w).floor() * w;
        // 50 m inside the cell's south-west corner.
        let p = pt(lat0 + 0.00045, lon0 + 0.00048);
        let mut cells = cells_covering(p, 150.0, 5, 9).expect("few cells");
        cells.sort();
        let mut want: Vec<String> = [(0.0, 0.0), (-h, 0.0), (0.0, -w), (-h, -w)]
            .iter()
            .map(|(dy, dx)| encode(pt(p.lat + dy, p.lon + dx), 5))
            .collect();
        want.sort();
        assert_eq!(cells, want);
    }

    #[test]
    fn every_point_within_the_radius_lies_in_a_listed_cell() {
        // Points on the circle (and just inside) around centres all over one cell and its
        // edges: the cell of each is listed.
        let (h, w) = cell_size_deg(6);
        let r = 150.0;
        for i in 0..=20 {
            for j in 0..=20 {
                let c = pt(
                    22.38 + h * f64::from(i) / 10.0,
                    103.44 + w * f64::from(j) / 10.0,
                );
                let cells = cells_covering(c, r, 6, 16).expect("few cells");
                for k in 0..36 {
                    let a = f64::from(k) * 10f64.to_radians();
                    let d = (r * 0.999 / EARTH_RADIUS_M).to_degrees();
                    let q = pt(
                        c.lat + d * a.sin(),
                        c.lon + d * a.cos() / c.lat.to_radians().cos(),
                    );
                    if distance_m(c, q) <= r {
                        assert!(cells.contains(&encode(q, 6)), "{q:?} around {c:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn too_many_cells_or_a_bad_centre_give_none() {
        assert!(cells_covering(pt(22.4, 103.45), 20_000.0, 6, 9).is_none());
        assert!(cells_covering(pt(f64::NAN, 103.45), 100.0, 5, 9).is_none());
        assert!(cells_covering(pt(22.4, 103.45), -1.0, 5, 9).is_none());
    }

    #[test]
    fn the_box_wraps_across_the_antimeridian() {
        let cells = cells_covering(pt(0.0, 179.9999), 100.0, 5, 9).expect("few cells");
        assert!(cells.contains(&encode(pt(0.0, 179.9999), 5)));
        assert!(cells.contains(&encode(pt(0.0, -179.9999), 5)));
    }
}
