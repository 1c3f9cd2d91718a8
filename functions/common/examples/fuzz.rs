//! The fuzz run for the parsers of untrusted input, on stable Rust (see `fuzz/targets.rs`):
//!
//! ```sh
//! cargo run -p phananh-lambda --example fuzz -- [--seconds N] [--seed S] [--inputs M] [TARGET...]
//! ```
//!
//! Each target (api, lambda, media, config; all by default) runs for N seconds (default 60)
//! or M inputs (default unlimited), from seed S (default from the clock; printed). A panic,
//! or a 5xx from the API, stops the run with the input in hex and a non-zero exit.

#[path = "../fuzz/targets.rs"]
mod targets;

use std::time::Duration;

fn main() {
    let mut seconds = 60u64;
    let mut seed: Option<u64> = None;
    let mut max_inputs = u64::MAX;
    let mut names: Vec<String> = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut num = |what: &str| -> u64 {
            match args.next().and_then(|v| v.parse().ok()) {
                Some(v) => v,
                None => {
                    eprintln!("{what} needs a number");
                    std::process::exit(2);
                }
            }
        };
        match a.as_str() {
            "--seconds" => seconds = num("--seconds"),
            "--seed" => seed = Some(num("--seed")),
            "--inputs" => max_inputs = num("--inputs"),
            "-h" | "--help" => {
                println!(
                    "fuzz [--seconds N] [--seed S] [--inputs M] [api|lambda|media|config ...]"
                );
                return;
            }
            other => names.push(other.to_string()),
        }
    }
    let seed = seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
    });
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("tokio runtime: {e}");
            std::process::exit(1);
        }
    };
    // Rejected inputs log warnings by design; keep the output to the table.
    println!("seed {seed}, {seconds} s per target");
    println!(
        "{:<8} {:>10} {:>8} {:>10}",
        "target", "inputs", "seconds", "inputs/s"
    );
    let mut total = 0;
    for mut t in targets::all_targets(&rt) {
        if !names.is_empty() && !names.iter().any(|n| n == t.name()) {
            continue;
        }
        let s = targets::run(
            t.as_mut(),
            &rt,
            seed,
            max_inputs,
            Duration::from_secs(seconds),
        );
        total += s.inputs;
        let secs = s.elapsed.as_secs_f64();
        println!(
            "{:<8} {:>10} {:>8.1} {:>10.0}  {}",
            t.name(),
            s.inputs,
            secs,
            s.inputs as f64 / secs.max(1e-9),
            t.summary()
        );
    }
    println!("{total} inputs, no panic, no 5xx");
}
