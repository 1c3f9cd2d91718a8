//! Routing with the shipped Lai Châu config: the ward of a report from its location or the
//! reporter's choice (Đ.5.2, ward-level categories), duplicate hints, and lead / coordinating
//! units per category (Đ.7.4 "chủ trì, phối hợp"; Đ.7.4.k the office routes "other").

use chrono::{DateTime, Duration, Utc};
use phananh_core::config::{self, CityConfig, Routing};
use phananh_core::model::{GeoPoint, Report, ReportId, State};
use phananh_core::routing::{
    distance_m, duplicate_candidates, resolve_ward, route, ward_at, WardSource,
};
use std::path::Path;
use std::sync::OnceLock;

fn cfg() -> &'static CityConfig {
    static CFG: OnceLock<CityConfig> = OnceLock::new();
    CFG.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/laichau");
        config::load_dir(&dir).expect("the shipped Lai Châu config loads")
    })
}

fn pt(lat: f64, lon: f64) -> GeoPoint {
    GeoPoint { lat, lon }
}

/// A point inside each ward of the illustrative boundaries.
const INSIDE: &[(&str, f64, f64)] = &[
    ("san_thang", 22.395, 103.437),
    ("quyet_thang", 22.412, 103.452),
    ("tan_phong", 22.412, 103.468),
    ("doan_ket", 22.397, 103.452),
    ("dong_phong", 22.397, 103.468),
    ("quyet_tien", 22.380, 103.460),
    ("nam_loong", 22.395, 103.482),
];

// --- Wards ---------------------------------------------------------------------------------------

#[test]
fn the_seven_wards_and_communes_of_lai_chau_city_are_configured() {
    let ids: Vec<&str> = cfg().wards.iter().map(|w| w.id.as_str()).collect();
    for (id, _, _) in INSIDE {
        assert!(ids.contains(id), "{id}");
    }
    assert_eq!(ids.len(), 7);
    for w in &cfg().wards {
        assert_eq!(w.unit, format!("ubnd_{}", w.id));
        assert!(cfg().unit(&w.unit).is_some(), "unit of {}", w.id);
        assert!(w.illustrative, "{} boundary is not surveyed data", w.id);
        assert!(w.kind == "phuong" || w.kind == "xa");
    }
}

#[test]
fn a_point_inside_a_ward_belongs_to_it_and_to_no_other() {
    for (id, lat, lon) in INSIDE {
        let p = pt(*lat, *lon);
        assert_eq!(ward_at(cfg(), p).map(|w| w.id.as_str()), Some(*id));
        let containing = cfg()
            .wards
            .iter()
            .filter(|w| phananh_core::routing::polygon_contains(&w.boundary, p))
            .count();
        assert_eq!(containing, 1, "{id}: wards must not overlap");
    }
}

#[test]
fn points_outside_the_city_or_invalid_have_no_ward() {
    assert!(ward_at(cfg(), pt(21.0285, 105.8542)).is_none()); // Hà Nội
    assert!(ward_at(cfg(), pt(22.43, 103.46)).is_none()); // just north of the box
    assert!(ward_at(cfg(), pt(22.40, 103.429)).is_none()); // just west
    assert!(ward_at(cfg(), pt(f64::NAN, 103.46)).is_none());
    assert!(ward_at(cfg(), pt(95.0, 103.46)).is_none());
}

#[test]
fn a_point_on_the_edge_counts_as_inside() {
    // Outer edge of San Thàng (west side of the box) and its corner.
    assert_eq!(
        ward_at(cfg(), pt(22.40, 103.430)).map(|w| w.id.as_str()),
        Some("san_thang")
    );
    assert_eq!(
        ward_at(cfg(), pt(22.370, 103.430)).map(|w| w.id.as_str()),
        Some("san_thang")
    );
    // On the slanted edge shared by Đoàn Kết and Đông Phong (midpoint of
    // [103.462, 22.390]–[103.460, 22.405]): both contain it, the first configured wins.
    let p = pt(22.3975, 103.461);
    let both: Vec<&str> = cfg()
        .wards
        .iter()
        .filter(|w| phananh_core::routing::polygon_contains(&w.boundary, p))
        .map(|w| w.id.as_str())
        .collect();
    assert_eq!(both, ["doan_ket", "dong_phong"]);
    assert_eq!(ward_at(cfg(), p).map(|w| w.id.as_str()), Some("doan_ket"));
    // A hair east of that edge is Đông Phong only.
    assert_eq!(
        ward_at(cfg(), pt(22.3975, 103.4611)).map(|w| w.id.as_str()),
        Some("dong_phong")
    );
}

#[test]
fn the_location_decides_the_ward_before_the_reporters_choice() {
    let r = resolve_ward(cfg(), Some(pt(22.412, 103.468)), Some("doan_ket"));
    assert_eq!(r, Some(("tan_phong".to_string(), WardSource::Location)));
}

#[test]
fn without_a_usable_location_the_reporters_choice_is_used() {
    assert_eq!(
        resolve_ward(cfg(), None, Some("nam_loong")),
        Some(("nam_loong".to_string(), WardSource::ReporterChoice))
    );
    // Location outside every ward (e.g. GPS drift far away).
    assert_eq!(
        resolve_ward(cfg(), Some(pt(21.0285, 105.8542)), Some("quyet_tien")),
        Some(("quyet_tien".to_string(), WardSource::ReporterChoice))
    );
}

#[test]
fn an_unknown_ward_choice_is_ignored_and_the_ioc_triages() {
    assert_eq!(resolve_ward(cfg(), None, Some("phuong_khong_co")), None);
    assert_eq!(resolve_ward(cfg(), None, None), None);
    assert_eq!(resolve_ward(cfg(), Some(pt(f64::NAN, 1.0)), Some("")), None);
}

// --- Distances and duplicates --------------------------------------------------------------------

#[test]
fn distances_are_great_circle_metres() {
    let a = pt(22.396, 103.458);
    assert_eq!(distance_m(a, a), 0.0);
    // One thousandth of a degree of latitude is about 111 m.
    let d = distance_m(a, pt(22.397, 103.458));
    assert!((d - 111.2).abs() < 0.5, "{d}");
    // Symmetric; a longitude degree shrinks with cos(latitude): ≈ 102.9 m here.
    let e = distance_m(a, pt(22.396, 103.459));
    assert!((e - 102.9).abs() < 0.5, "{e}");
    assert_eq!(e, distance_m(pt(22.396, 103.459), a));
}

fn t0() -> DateTime<Utc> {
    "2025-03-10T02:00:00Z".parse().expect("valid instant")
}

fn report(id: &str, category: &str, at: Option<GeoPoint>, created: DateTime<Utc>) -> Report {
    let mut v = serde_json::json!({
        "id": id,
        "version": 1,
        "source": { "kind": "app" },
        "category": category,
        "reported_category": category,
        "title": "Phản ánh",
        "description": "Nội dung",
        "state": "submitted",
        "created_at": created,
        "updated_at": created,
        "timeline": [],
    });
    if let Some(p) = at {
        v["location"] = serde_json::json!({ "lat": p.lat, "lon": p.lon });
    }
    serde_json::from_value(v).expect("a minimal report deserialises")
}

#[test]
fn duplicates_are_near_recent_and_of_the_same_category_nearest_first() {
    let c = cfg();
    assert!(c.city.duplicate_radius_m >= 100.0 && c.city.duplicate_window_hours >= 24);
    let radius_deg = c.city.duplicate_radius_m / 111_200.0; // in degrees of latitude
    let window = Duration::hours(i64::from(c.city.duplicate_window_hours));
    let here = pt(22.396, 103.458);
    let new = report("r-new", "urban_order", Some(here), t0());
    let near = |f: f64| pt(here.lat + radius_deg * f, here.lon);

    let mut rejected = report("r-rejected", "urban_order", Some(near(0.1)), t0());
    rejected.state = State::Rejected;
    let recent = vec![
        new.clone(),                                           // itself
        report("r-far", "urban_order", Some(near(1.5)), t0()), // outside radius
        report(
            "r-mid",
            "urban_order",
            Some(near(0.6)),
            t0() - Duration::hours(5),
        ),
        report(
            "r-close",
            "urban_order",
            Some(near(0.2)),
            t0() - window + Duration::minutes(1),
        ),
        report(
            "r-edge",
            "urban_order",
            Some(near(0.95)),
            t0() + Duration::hours(1),
        ),
        report(
            "r-old",
            "urban_order",
            Some(near(0.1)),
            t0() - window - Duration::minutes(1),
        ),
        report("r-other-cat", "environment", Some(near(0.1)), t0()),
        report("r-no-location", "urban_order", None, t0()),
        rejected,
    ];
    let ids = duplicate_candidates(c, &new, &points(&recent));
    let expected: Vec<ReportId> = ["r-close", "r-mid", "r-edge"].map(ReportId::from).to_vec();
    assert_eq!(ids, expected);
}

#[test]
fn a_report_without_location_has_no_duplicate_hints() {
    let new = report("r-new", "urban_order", None, t0());
    let other = report("r-1", "urban_order", Some(pt(22.396, 103.458)), t0());
    assert!(duplicate_candidates(cfg(), &new, &points(&[other])).is_empty());
}

// --- Đ.7.4: routing by category -------------------------------------------------------------------

#[test]
fn d7_4_unit_categories_go_to_their_unit_with_the_ward_coordinating() {
    let c = cfg();
    // Traffic and security: city police lead, the ward where it happens coordinates.
    let cat = c.category("traffic_security").expect("configured");
    let Routing::Unit { unit } = &cat.routing else {
        panic!("traffic_security is routed to a unit");
    };
    assert!(cat.coordinate_with_ward);
    let r = route(c, "traffic_security", Some("doan_ket"));
    assert_eq!(r.lead_unit.as_deref(), Some(unit.as_str()));
    assert!(
        r.coordinating_units.contains(&"ubnd_doan_ket".to_string()),
        "{r:?}"
    );
    assert!(r.reason.contains("Đ.7.4"), "{}", r.reason);
    // Ward unknown: the unit still leads; no ward coordinates.
    let r = route(c, "traffic_security", None);
    assert_eq!(r.lead_unit.as_deref(), Some(unit.as_str()));
    assert!(
        !r.coordinating_units.iter().any(|u| u.starts_with("ubnd_")),
        "{r:?}"
    );
    // An unknown ward id is treated as unknown.
    let r = route(c, "traffic_security", Some("khong_co"));
    assert!(
        !r.coordinating_units.iter().any(|u| u.starts_with("ubnd_")),
        "{r:?}"
    );
}

#[test]
fn d7_4_unit_categories_without_ward_coordination_ignore_the_ward() {
    let c = cfg();
    let cat = c.category("service_attitude").expect("configured");
    assert!(!cat.coordinate_with_ward);
    let r = route(c, "service_attitude", Some("tan_phong"));
    assert_eq!(r.lead_unit.as_deref(), Some("phong_noi_vu"));
    assert!(!r.coordinating_units.contains(&"ubnd_tan_phong".to_string()));
    for u in &cat.coordinating_units {
        assert!(r.coordinating_units.contains(u));
    }
}

#[test]
fn d7_4_ward_categories_go_to_the_ward_where_it_happens() {
    let c = cfg();
    for code in ["construction_order", "urban_order"] {
        assert_eq!(c.category(code).map(|k| &k.routing), Some(&Routing::Ward));
        for w in &c.wards {
            let r = route(c, code, Some(&w.id));
            assert_eq!(
                r.lead_unit.as_deref(),
                Some(w.unit.as_str()),
                "{code} in {}",
                w.id
            );
            assert!(!r.coordinating_units.contains(&w.unit));
        }
        // Ward unknown: no lead, the IOC triages.
        let r = route(c, code, None);
        assert_eq!(r.lead_unit, None);
        assert!(r.reason.contains("IOC"), "{}", r.reason);
    }
}

#[test]
fn d7_4_k_other_reports_are_routed_by_the_office() {
    let c = cfg();
    assert_eq!(
        c.category("other").map(|k| &k.routing),
        Some(&Routing::Office)
    );
    let r = route(c, "other", Some("tan_phong"));
    assert_eq!(r.lead_unit, None);
    assert!(r.reason.contains("Đ.7.4.k"), "{}", r.reason);
}

#[test]
fn every_configured_category_routes_per_its_kind() {
    let c = cfg();
    for cat in &c.categories {
        let r = route(c, &cat.code, Some("quyet_thang"));
        match &cat.routing {
            Routing::Unit { unit } => assert_eq!(r.lead_unit.as_deref(), Some(unit.as_str())),
            Routing::Ward => assert_eq!(r.lead_unit.as_deref(), Some("ubnd_quyet_thang")),
            Routing::Office => assert_eq!(r.lead_unit, None),
        }
        if let Some(lead) = &r.lead_unit {
            assert!(!r.coordinating_units.contains(lead), "{}", cat.code);
        }
        let mut dedup = r.coordinating_units.clone();
        dedup.dedup();
        assert_eq!(dedup.len(), r.coordinating_units.len(), "{}", cat.code);
    }
}

#[test]
fn an_unknown_category_has_no_lead() {
    let r = route(cfg(), "khong_co", Some("tan_phong"));
    assert_eq!(r.lead_unit, None);
    assert!(r.coordinating_units.is_empty());
}

// --- From a point to a unit -----------------------------------------------------------------------

#[test]
fn a_sidewalk_report_located_in_tan_phong_goes_to_ubnd_tan_phong() {
    let (ward, source) =
        resolve_ward(cfg(), Some(pt(22.412, 103.468)), None).expect("inside Tân Phong");
    assert_eq!(source, WardSource::Location);
    let r = route(cfg(), "urban_order", Some(&ward));
    assert_eq!(r.lead_unit.as_deref(), Some("ubnd_tan_phong"));
}

#[test]
fn at_a_hotspot_only_the_nearest_few_duplicates_are_kept() {
    let c = cfg();
    let max = c.city.duplicate_hints_max as usize;
    assert_eq!(max, 5, "the Lai Châu default");
    let here = pt(22.396, 103.458);
    let new = report("r-new", "urban_order", Some(here), t0());
    // 300 reports at one place, the k-th k metres further north.
    let recent: Vec<Report> = (1..=300)
        .map(|k| {
            let p = pt(here.lat + f64::from(k) * 0.4 / 111_200.0, here.lon);
            report(&format!("r-{k:03}"), "urban_order", Some(p), t0())
        })
        .collect();
    let ids = duplicate_candidates(c, &new, &points(&recent));
    let nearest: Vec<ReportId> = (1..=max).map(|k| ReportId(format!("r-{k:03}"))).collect();
    assert_eq!(ids, nearest);
}

#[test]
fn a_typed_location_needs_both_numbers_in_range() {
    let parse =
        |lat: Option<&str>, lon: Option<&str>| GeoPoint::parse_pair(("lat", lat), ("lon", lon));
    assert_eq!(
        parse(Some("22,3965"), Some(" 103.4585 ")).unwrap(),
        Some(pt(22.3965, 103.4585))
    );
    assert_eq!(parse(None, Some("")).unwrap(), None);
    for (lat, lon, field) in [
        (Some("22.39"), None, "lon"),
        (None, Some("103.45"), "lat"),
        (Some("bắc"), Some("103.45"), "lat"),
        (Some("95"), Some("103.45"), "lat"),
    ] {
        match parse(lat, lon) {
            Err(phananh_core::DomainError::Invalid { field: f, .. }) => assert_eq!(f, field),
            other => panic!("{lat:?} {lon:?}: {other:?}"),
        }
    }
}

/// What the duplicate check reads of stored reports.
fn points(reports: &[Report]) -> Vec<phananh_core::ports::RecentPoint> {
    reports
        .iter()
        .map(phananh_core::ports::RecentPoint::of)
        .collect()
}
