//! Scans through the library API (not the binary): the example layout and synthetic layouts
//! written here, the repo's advisory test data (crates/vulndb/tests/data).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bulwark_scan::{
    CancelToken, Error, Event, EventSink, ImageScan, NoopSink, RecordedEvent, RecordingSink,
    Scanner,
};
use sha2::{Digest, Sha256};

const EXAMPLE: &str = "oci:../../examples/debian-mini";

fn advisory_db(tmp: &Path) -> PathBuf {
    let db = tmp.join("db");
    bulwark_vulndb::import_paths(
        &db,
        &[PathBuf::from("../vulndb/tests/data")],
        &bulwark_vulndb::NoProgress,
    )
    .unwrap();
    db
}

fn sha256(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// An OCI layout of `layers` uncompressed layers, each with `files` small files.
fn write_layout(dir: &Path, layers: usize, files: usize) {
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    let put = |bytes: &[u8]| {
        let hex = sha256(bytes);
        std::fs::write(blobs.join(&hex), bytes).unwrap();
        (format!("sha256:{hex}"), bytes.len())
    };
    let mut descriptors = Vec::new();
    let mut diff_ids = Vec::new();
    for l in 0..layers {
        let mut tar = tar::Builder::new(Vec::new());
        for f in 0..files {
            let body = format!("layer {l} file {f}\n");
            let mut h = tar::Header::new_gnu();
            h.set_size(body.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            tar.append_data(&mut h, format!("data/l{l}/f{f}.txt"), body.as_bytes())
                .unwrap();
        }
        let bytes = tar.into_inner().unwrap();
        let (digest, size) = put(&bytes);
        diff_ids.push(digest.clone());
        descriptors.push(serde_json::json!({
            "mediaType": "application/vnd.oci.image.layer.v1.tar",
            "digest": digest, "size": size,
        }));
    }
    let config = serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "config": {}, "history": [],
    })
    .to_string();
    let (config_digest, config_size) = put(config.as_bytes());
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": config_digest, "size": config_size},
        "layers": descriptors,
    })
    .to_string();
    let (manifest_digest, manifest_size) = put(manifest.as_bytes());
    let index = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "digest": manifest_digest, "size": manifest_size,
                       "platform": {"architecture": "amd64", "os": "linux"}}],
    });
    std::fs::write(dir.join("index.json"), index.to_string()).unwrap();
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
}

fn layout_scan(dir: &Path) -> ImageScan {
    let mut scan = ImageScan::new(&format!("oci:{}", dir.display()), dir.join("no-db")).unwrap();
    scan.platform = "linux/amd64".parse().unwrap();
    scan.settings.scanners = Some(vec![Scanner::Sbom]);
    scan
}

/// Cancels the scan at the first layer event it sees.
struct CancelAtFirstLayer<'a> {
    token: &'a CancelToken,
    recorder: RecordingSink,
}

impl EventSink for CancelAtFirstLayer<'_> {
    fn event(&self, event: Event<'_>) {
        if matches!(event, Event::LayerStarted { .. }) {
            self.token.cancel();
        }
        self.recorder.event(event);
    }
}

fn count(events: &[RecordedEvent], f: impl Fn(&RecordedEvent) -> bool) -> usize {
    events.iter().filter(|e| f(e)).count()
}

#[test]
fn a_token_cancelled_at_the_first_event_stops_the_walk_before_the_next_file() {
    let tmp = tempfile::tempdir().unwrap();
    write_layout(tmp.path(), 1, 2000);
    let token = CancelToken::new();
    let sink = CancelAtFirstLayer {
        token: &token,
        recorder: RecordingSink::new(),
    };
    let result = layout_scan(tmp.path()).run(&sink, &token);
    assert!(matches!(result, Err(Error::Cancelled)), "{result:?}");
    let events = sink.recorder.events();
    assert_eq!(
        count(&events, |e| matches!(
            e,
            RecordedEvent::LayerFinished { .. }
        )),
        0,
        "the layer stopped between files: {events:?}"
    );
}

#[test]
fn a_token_cancelled_at_the_first_layer_leaves_the_other_layers_unread() {
    const LAYERS: usize = 24;
    let tmp = tempfile::tempdir().unwrap();
    write_layout(tmp.path(), LAYERS, 200);
    let token = CancelToken::new();
    let sink = CancelAtFirstLayer {
        token: &token,
        recorder: RecordingSink::new(),
    };
    let started = Instant::now();
    let result = layout_scan(tmp.path()).run(&sink, &token);
    assert!(matches!(result, Err(Error::Cancelled)), "{result:?}");
    assert!(started.elapsed() < Duration::from_secs(5), "promptly");
    let events = sink.recorder.events();
    // Layers already started on other threads when the token flipped stop at their next
    // file; no layer is started after it.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let opened = count(&events, |e| matches!(e, RecordedEvent::LayerStarted { .. }));
    assert!(
        opened <= threads.min(LAYERS - 1),
        "{opened} of {LAYERS} layers started"
    );
    let finished = count(&events, |e| {
        matches!(e, RecordedEvent::LayerFinished { .. })
    });
    assert!(finished < LAYERS, "{events:?}");

    // A token cancelled before the run stops it before the image is opened.
    let token = CancelToken::new();
    token.cancel();
    let sink = RecordingSink::new();
    let result = layout_scan(tmp.path()).run(&sink, &token);
    assert!(matches!(result, Err(Error::Cancelled)), "{result:?}");
    assert_eq!(
        count(&sink.events(), |e| matches!(
            e,
            RecordedEvent::LayerStarted { .. }
        )),
        0
    );
}

#[test]
fn the_sink_sees_every_layer_start_and_finish_with_bytes_and_files() {
    let tmp = tempfile::tempdir().unwrap();
    write_layout(tmp.path(), 5, 7);
    let mut scan = layout_scan(tmp.path());
    scan.settings.cache_dir = Some(tmp.path().join("cache"));
    let sink = RecordingSink::new();
    scan.clone().run(&sink, &CancelToken::new()).unwrap();
    let events = sink.events();
    for index in 0..5 {
        assert!(events
            .iter()
            .any(|e| matches!(e, RecordedEvent::LayerStarted { index: i, .. } if *i == index)));
        let finished = events.iter().find_map(|e| match e {
            RecordedEvent::LayerFinished {
                index: i,
                from_cache,
                bytes,
                files,
            } if *i == index => Some((*from_cache, *bytes, *files)),
            _ => None,
        });
        let (from_cache, bytes, files) = finished.expect("each layer finishes");
        assert!(!from_cache && bytes > 0, "layer {index}: {bytes} bytes");
        assert_eq!(files, 7, "layer {index}");
    }
    // Warm: every layer comes from the cache, and still finishes with its file count.
    let sink = RecordingSink::new();
    scan.run(&sink, &CancelToken::new()).unwrap();
    let cached: Vec<(bool, usize)> = sink
        .events()
        .iter()
        .filter_map(|e| match e {
            RecordedEvent::LayerFinished {
                from_cache, files, ..
            } => Some((*from_cache, *files)),
            _ => None,
        })
        .collect();
    assert_eq!(cached, vec![(true, 7); 5]);
}

#[test]
fn vulnerability_matching_pulls_in_the_package_catalog() {
    let tmp = tempfile::tempdir().unwrap();
    let db = advisory_db(tmp.path());
    let mut scan = ImageScan::new(EXAMPLE, &db).unwrap();
    scan.settings.scanners = Some(vec![Scanner::Vuln]);
    let report = scan.run(&NoopSink, &CancelToken::new()).unwrap().report;
    assert!(
        !report.vulnerabilities.is_empty(),
        "vuln alone catalogued the packages it matched"
    );
    assert!(report.packages.is_empty(), "the list is not asked for");
    assert!(report.secrets.is_empty() && report.misconfigurations.is_empty());

    // A gate runs what it judges: a vulnerability gate with only secrets chosen.
    let mut scan = ImageScan::new(EXAMPLE, &db).unwrap();
    scan.settings.scanners = Some(vec![Scanner::Secret]);
    scan.settings.policy.policy.gates.vulnerabilities = Some(Default::default());
    let report = scan.run(&NoopSink, &CancelToken::new()).unwrap().report;
    assert!(!report.vulnerabilities.is_empty());
    assert!(report.gates.iter().any(|g| !g.passed), "{:?}", report.gates);

    // Asking for vulnerabilities without an advisory database is an error, not an empty list.
    let mut scan = ImageScan::new(EXAMPLE, &db).unwrap();
    scan.settings.scanners = Some(vec![Scanner::Vuln]);
    scan.settings.advisories = None;
    let result = scan.run(&NoopSink, &CancelToken::new());
    assert!(matches!(result, Err(Error::Contradiction(_))), "{result:?}");
    let mut scan = ImageScan::new(EXAMPLE, tmp.path().join("missing")).unwrap();
    scan.settings.scanners = Some(vec![Scanner::Vuln]);
    let result = scan.run(&NoopSink, &CancelToken::new());
    assert!(matches!(result, Err(Error::NoAdvisoryDb(_))), "{result:?}");
}

#[test]
fn a_missing_database_is_a_notice_when_not_asked_for() {
    let tmp = tempfile::tempdir().unwrap();
    let sink = RecordingSink::new();
    let scan = ImageScan::new(EXAMPLE, tmp.path().join("missing")).unwrap();
    let outcome = scan.run(&sink, &CancelToken::new()).unwrap();
    assert!(!outcome.report.packages.is_empty());
    let notices = sink
        .events()
        .into_iter()
        .filter(|e| matches!(e, RecordedEvent::Notice(..)))
        .count();
    assert_eq!(notices, 1);
}

/// Counts how many scans are inside their opening phase at once (each lingers there).
#[derive(Default)]
struct InFlight {
    now: AtomicUsize,
    most: AtomicUsize,
}

impl EventSink for InFlight {
    fn event(&self, event: Event<'_>) {
        if event == Event::Phase(bulwark_scan::Phase::Opening) {
            let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
            self.most.fetch_max(now, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(150));
            self.now.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

#[test]
fn registry_scans_run_every_image_with_bounded_parallelism() {
    // No registry here: every image fails on its own, the others go on, each result reaches
    // the collector once, and at most `jobs` scans run at once.
    let images: Vec<String> = (0..6).map(|i| format!("127.0.0.1:1/none/{i}:x")).collect();
    let tmp = tempfile::tempdir().unwrap();
    let mut template = layout_scan(tmp.path());
    template.sources.registry.retries = 0;
    template.sources.registry.connect_timeout = Duration::from_millis(200);
    let sink = InFlight::default();
    let mut seen = Vec::new();
    bulwark_scan::registry::scan_images(
        &images,
        &template,
        2,
        &sink,
        &CancelToken::new(),
        |i, result| {
            assert!(result.is_err(), "{result:?}");
            seen.push(i);
        },
    );
    seen.sort();
    assert_eq!(seen, (0..6).collect::<Vec<_>>());
    assert_eq!(sink.most.load(Ordering::SeqCst), 2, "two jobs, both used");
}
