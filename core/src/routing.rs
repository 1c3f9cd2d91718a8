//! Where a report goes: its ward (point in polygon, else the reporter's choice), possible
//! duplicates, and the lead and coordinating units of its category (Đ.7.4: "chủ trì, phối hợp").

use crate::config::{CityConfig, Routing, WardConfig};
use crate::model::{GeoPoint, Report, ReportId, State};
use crate::ports::RecentPoint;
use serde::{Deserialize, Serialize};

/// How the ward of a report was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WardSource {
    /// The report's coordinates fall inside the ward's boundary.
    Location,
    /// The ward the reporter chose in the app (no usable location).
    ReporterChoice,
}

/// Lead and coordinating units for a report. `lead_unit` None means a person must route it: the
/// IOC (ward unknown) or the office (Đ.7.4.k).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    pub lead_unit: Option<String>,
    pub coordinating_units: Vec<String>,
    /// Why, in Vietnamese, for the IOC's screen and the timeline.
    pub reason: String,
}

/// Degrees of tolerance for "on the edge" (about 0.1 mm).
const EDGE_EPS: f64 = 1e-9;

fn on_segment(x: f64, y: f64, a: [f64; 2], b: [f64; 2]) -> bool {
    let cross = (b[0] - a[0]) * (y - a[1]) - (b[1] - a[1]) * (x - a[0]);
    let len = ((b[0] - a[0]).powi(2) + (b[1] - a[1]).powi(2)).sqrt();
    if cross.abs() > EDGE_EPS * len.max(EDGE_EPS) {
        return false;
    }
    x >= a[0].min(b[0]) - EDGE_EPS
        && x <= a[0].max(b[0]) + EDGE_EPS
        && y >= a[1].min(b[1]) - EDGE_EPS
        && y <= a[1].max(b[1]) + EDGE_EPS
}

/// Whether a point ([lon, lat] ring) lies inside the polygon or on its boundary. The ring may or
/// may not repeat its first point at the end.
pub fn polygon_contains(ring: &[[f64; 2]], p: GeoPoint) -> bool {
    let n = ring.len();
    if n < 3 {
        return false;
    }
    let (x, y) = (p.lon, p.lat);
    let mut inside = false;
    let mut j = n - 1;
    for i in 0..n {
        let (a, b) = (ring[i], ring[j]);
        if on_segment(x, y, a, b) {
            return true;
        }
        if (a[1] > y) != (b[1] > y) {
            let x_cross = a[0] + (y - a[1]) * (b[0] - a[0]) / (b[1] - a[1]);
            if x < x_cross {
                inside = !inside;
            }
        }
        j = i;
    }
    inside
}

/// The ward whose boundary contains `p` (edges count as inside; on an edge shared by two wards,
/// the one configured first). None for an invalid point or one outside every ward.
pub fn ward_at(cfg: &CityConfig, p: GeoPoint) -> Option<&WardConfig> {
    if !p.is_valid() {
        return None;
    }
    cfg.wards.iter().find(|w| polygon_contains(&w.boundary, p))
}

/// The report's ward: from its location first, then the reporter's choice if it names a
/// configured ward, else None (the IOC triages).
pub fn resolve_ward(
    cfg: &CityConfig,
    location: Option<GeoPoint>,
    reporter_ward: Option<&str>,
) -> Option<(String, WardSource)> {
    if let Some(w) = location.and_then(|p| ward_at(cfg, p)) {
        return Some((w.id.clone(), WardSource::Location));
    }
    reporter_ward
        .and_then(|id| cfg.ward(id.trim()))
        .map(|w| (w.id.clone(), WardSource::ReporterChoice))
}

/// Great-circle distance in metres (haversine, mean Earth radius).
pub fn distance_m(a: GeoPoint, b: GeoPoint) -> f64 {
    const R: f64 = 6_371_008.8;
    let (la1, la2) = (a.lat.to_radians(), b.lat.to_radians());
    let dlat = la2 - la1;
    let dlon = (b.lon - a.lon).to_radians();
    let h = (dlat / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlon / 2.0).sin().powi(2);
    2.0 * R * h.sqrt().min(1.0).asin()
}

/// Possible duplicates of `report` among `recent`: same category, both located, within
/// `duplicate_radius_m` and within `duplicate_window_hours` (either side) of its creation;
/// never itself nor rejected reports. Nearest first (then newest, then by id).
pub fn duplicate_candidates(
    cfg: &CityConfig,
    report: &Report,
    recent: &[RecentPoint],
) -> Vec<ReportId> {
    let Some(here) = report.location.filter(|p| p.is_valid()) else {
        return Vec::new();
    };
    let radius = cfg.city.duplicate_radius_m;
    let window = chrono::Duration::hours(i64::from(cfg.city.duplicate_window_hours));
    let mut found: Vec<(f64, &RecentPoint)> = recent
        .iter()
        .filter(|r| r.id != report.id && r.state != State::Rejected)
        .filter(|r| r.category == report.category)
        .filter(|r| (r.created_at - report.created_at).abs() <= window)
        .filter_map(|r| {
            let there = r.location.filter(|p| p.is_valid())?;
            let d = distance_m(here, there);
            (d <= radius).then_some((d, r))
        })
        .collect();
    found.sort_by(|(da, a), (db, b)| {
        da.total_cmp(db)
            .then(b.created_at.cmp(&a.created_at))
            .then(a.id.cmp(&b.id))
    });
    let max = cfg.city.duplicate_hints_max as usize;
    let mut ids: Vec<ReportId> = Vec::with_capacity(found.len().min(max));
    for (_, r) in found {
        if ids.len() >= max {
            break;
        }
        if !ids.contains(&r.id) {
            ids.push(r.id.clone());
        }
    }
    ids
}

fn unit_name(cfg: &CityConfig, id: &str) -> String {
    cfg.unit(id)
        .map_or_else(|| id.to_string(), |u| u.name.clone())
}

fn push_unique(list: &mut Vec<String>, lead: Option<&str>, id: &str) {
    if Some(id) != lead && !list.iter().any(|u| u == id) {
        list.push(id.to_string());
    }
}

/// Lead and coordinating units for a category in a ward (Đ.7.4).
/// - `Routing::Unit`: that unit leads; the category's coordinating units, plus the ward's unit
///   when `coordinate_with_ward` and the ward is known, coordinate.
/// - `Routing::Ward`: the ward's unit leads; unknown ward → no lead (IOC triage).
/// - `Routing::Office`: no lead; the office routes it (Đ.7.4.k).
/// - Unknown category: no lead.
pub fn route(cfg: &CityConfig, category: &str, ward: Option<&str>) -> Route {
    let Some(cat) = cfg.category(category) else {
        return Route {
            lead_unit: None,
            coordinating_units: Vec::new(),
            reason: format!("Lĩnh vực không xác định ({category}): IOC phân loại."),
        };
    };
    let ward = ward.and_then(|w| cfg.ward(w));
    let mut coordinating: Vec<String> = Vec::new();
    match &cat.routing {
        Routing::Unit { unit } => {
            for u in &cat.coordinating_units {
                push_unique(&mut coordinating, Some(unit), u);
            }
            let mut reason = format!(
                "Lĩnh vực “{}”: {} chủ trì (Đ.7.4)",
                cat.name,
                unit_name(cfg, unit)
            );
            if cat.coordinate_with_ward {
                match ward {
                    Some(w) => {
                        push_unique(&mut coordinating, Some(unit), &w.unit);
                        reason.push_str(&format!(", {} phối hợp", unit_name(cfg, &w.unit)));
                    }
                    None => reason.push_str(", chưa xác định được xã/phường phối hợp"),
                }
            }
            reason.push('.');
            Route {
                lead_unit: Some(unit.clone()),
                coordinating_units: coordinating,
                reason,
            }
        }
        Routing::Ward => match ward {
            Some(w) => {
                for u in &cat.coordinating_units {
                    push_unique(&mut coordinating, Some(&w.unit), u);
                }
                Route {
                    lead_unit: Some(w.unit.clone()),
                    coordinating_units: coordinating,
                    reason: format!(
                        "Lĩnh vực “{}”: {} nơi xảy ra chủ trì (Đ.7.4).",
                        cat.name,
                        unit_name(cfg, &w.unit)
                    ),
                }
            }
            None => {
                for u in &cat.coordinating_units {
                    push_unique(&mut coordinating, None, u);
                }
                Route {
                    lead_unit: None,
                    coordinating_units: coordinating,
                    reason: format!(
                        "Lĩnh vực “{}” do xã/phường nơi xảy ra chủ trì, nhưng chưa xác định được \
                         xã/phường: IOC phân loại.",
                        cat.name
                    ),
                }
            }
        },
        Routing::Office => {
            for u in &cat.coordinating_units {
                push_unique(&mut coordinating, None, u);
            }
            Route {
                lead_unit: None,
                coordinating_units: coordinating,
                reason: format!(
                    "Lĩnh vực “{}”: {} phân loại, chuyển xử lý (Đ.7.4.k).",
                    cat.name,
                    unit_name(cfg, &cfg.city.office_unit)
                ),
            }
        }
    }
}
