//! The short fuzz run of the test suite: every target of `fuzz/targets.rs` on the valid seed
//! corpus and then mutated and random inputs (at most 1,500 inputs or 3 s per target, from a
//! seed printed and replayable with `PHANANH_FUZZ_SEED`). The long run is the `fuzz` example.

#[path = "../fuzz/targets.rs"]
mod targets;

use std::time::Duration;

fn seed() -> u64 {
    std::env::var("PHANANH_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
        })
}

fn short_run(name: &str) -> String {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let seed = seed();
    let mut t = targets::all_targets(&rt)
        .into_iter()
        .find(|t| t.name() == name)
        .expect("target");
    let s = targets::run(t.as_mut(), &rt, seed, 1_500, Duration::from_secs(3));
    eprintln!(
        "fuzz {name}: {} inputs in {:?}, seed {seed} (PHANANH_FUZZ_SEED) {}",
        s.inputs,
        s.elapsed,
        t.summary()
    );
    assert!(
        s.inputs > t.corpus().len() as u64,
        "{name}: mutated inputs were run too"
    );
    t.summary()
}

#[test]
fn request_bodies_and_queries_never_crash_the_api_nor_get_a_5xx() {
    let statuses = short_run("api");
    // The inputs reach the handlers: the valid samples are accepted, the broken ones refused.
    assert!(
        statuses.contains("200×") || statuses.contains("201×"),
        "{statuses}"
    );
    assert!(
        statuses.contains("422×") || statuses.contains("400×"),
        "{statuses}"
    );
}

#[test]
fn lambda_event_payloads_never_crash_their_parsers() {
    short_run("lambda");
}

#[test]
fn media_bytes_never_crash_the_sniffer_or_the_decoder() {
    short_run("media");
}

#[test]
fn city_config_files_never_crash_the_loader() {
    short_run("config");
}

#[test]
fn a_mutation_changes_its_input_and_the_seed_replays_it() {
    let corpus = vec![b"{\"a\":1}".to_vec()];
    let mut a = targets::Rng::new(42);
    let mut b = targets::Rng::new(42);
    let xs: Vec<Vec<u8>> = (0..50).map(|_| targets::input(&mut a, &corpus)).collect();
    let ys: Vec<Vec<u8>> = (0..50).map(|_| targets::input(&mut b, &corpus)).collect();
    assert_eq!(xs, ys, "same seed, same inputs");
    assert!(
        xs.iter()
            .filter(|x| x.as_slice() != corpus[0].as_slice())
            .count()
            > 25
    );
}
