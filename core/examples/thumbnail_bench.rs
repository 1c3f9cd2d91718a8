//! Benchmark (issue 11): the public copy and thumbnail of a 12-megapixel JPEG (4000 × 3000 with
//! GPS EXIF and an orientation), time and peak memory of this process above its level before.
//!
//! ```text
//! cargo run --release -p phananh-core --example thumbnail_bench
//! ```
//! Linux: the peak is `VmHWM` after resetting it through `/proc/self/clear_refs`.

use phananh_core::imaging::{make_derivatives, ImageLimits};
use std::time::Instant;

fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1).map(str::to_string))
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn main() {
    let photo = phananh_testkit::samples::jpeg_with_gps(4000, 3000, 22.3965, 103.4582, 6);
    let limits = ImageLimits {
        max_pixels: 50_000_000,
        public_px: 2048,
        thumbnail_px: 320,
    };
    let mut best = f64::MAX;
    let mut hwm_above = 0;
    for run in 0..3 {
        let before = status_kb("VmRSS:");
        let _ = std::fs::write("/proc/self/clear_refs", "5");
        let t = Instant::now();
        let d = match make_derivatives(&photo, "image/jpeg", &limits) {
            Ok(d) => d,
            Err(e) => {
                eprintln!("failed: {e}");
                std::process::exit(1);
            }
        };
        let secs = t.elapsed().as_secs_f64();
        let peak = status_kb("VmHWM:");
        best = best.min(secs);
        hwm_above = hwm_above.max(peak.saturating_sub(before));
        println!(
            "run {run}: {:.3} s, public {}x{} ({} KiB), thumbnail {} KiB, gps {:?}, peak RSS {} KiB above {} KiB",
            secs,
            d.width,
            d.height,
            d.public_jpeg.len() / 1024,
            d.thumbnail_jpeg.len() / 1024,
            d.gps,
            peak.saturating_sub(before),
            before
        );
    }
    println!(
        "12 MP JPEG ({} KiB): best {:.3} s, peak memory above the level before: {:.1} MiB",
        photo.len() / 1024,
        best,
        hwm_above as f64 / 1024.0
    );
}
