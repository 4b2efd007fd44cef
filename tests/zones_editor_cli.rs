//! The zone editor: its HTTP API (load, save atomically, refuse bad input) and a real
//! browser drawing a zone that then masks that area, on the real fixture clip.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use common::{redact_bin, scratch, vtest as fixture, vtest_zones as zones};
use veil::core::{CameraConfig, Frame, PixelFormat};

/// A running `redact zones edit`, killed on drop.
pub struct EditorProcess {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    /// The token of the printed URL.
    pub token: String,
}

impl EditorProcess {
    pub fn start(input: &Path, zones: &Path) -> EditorProcess {
        let mut child = Command::new(redact_bin())
            .args([
                OsStr::new("zones"),
                OsStr::new("edit"),
                input.as_os_str(),
                OsStr::new("--zones"),
                zones.as_os_str(),
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let url = loop {
            let line = lines.next().expect("the editor printed its URL").unwrap();
            if let Some(u) = line.strip_prefix("open ") {
                break u.to_owned();
            }
        };
        // keep reading what it prints, so that it never writes to a closed pipe
        std::thread::spawn(move || lines.for_each(drop));
        let (base, token) = url.split_once("/?token=").unwrap();
        assert!(base.starts_with("http://127.0.0.1:"), "{url}");
        EditorProcess {
            child,
            base: base.to_owned(),
            token: token.to_owned(),
        }
    }
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}?token={}", self.base, self.token)
    }
}

impl Drop for EditorProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

fn get(url: &str) -> (u16, Vec<u8>) {
    let r = agent()
        .get(url)
        .call()
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let s = r.status().as_u16();
    (s, r.into_body().read_to_vec().unwrap())
}

fn post(url: &str, body: &serde_json::Value) -> (u16, Vec<u8>) {
    let r = agent()
        .post(url)
        .header("Content-Type", "application/json")
        .send(body.to_string())
        .unwrap();
    let s = r.status().as_u16();
    (s, r.into_body().read_to_vec().unwrap())
}

fn json(b: &[u8]) -> serde_json::Value {
    serde_json::from_slice(b).unwrap()
}

#[test]
fn editor_api_loads_saves_atomically_and_refuses_bad_input() {
    let dir = scratch("zones-editor-api");
    let file = dir.join("cam.toml");
    let original = std::fs::read_to_string(zones()).unwrap();
    std::fs::write(&file, &original).unwrap();
    let ed = EditorProcess::start(&fixture(), &file);

    // no token, a wrong token, a foreign Host: refused, nothing served
    for url in [
        format!("{}/api/zones", ed.base),
        format!("{}/api/zones?token=0000", ed.base),
        format!("{}/", ed.base),
    ] {
        let (s, b) = get(&url);
        assert_eq!(s, 403, "{url}");
        assert!(json(&b)["error"].as_str().unwrap().contains("token"));
    }
    let (s, _) = post(
        &format!("{}/api/save", ed.base),
        &serde_json::json!({"zones": []}),
    );
    assert_eq!(s, 403);
    let r = agent()
        .get(&ed.url("/api/zones"))
        .header("Host", "attacker.example")
        .call()
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), original);

    // malformed and oversized requests: refused, nothing written
    let r = agent()
        .post(&ed.url("/api/save"))
        .header("Content-Type", "application/json")
        .send("{\"zones\": [{\"kind\": 3}]}")
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let r = agent()
        .post(&ed.url("/api/save"))
        .send(vec![b' '; 2 << 20])
        .unwrap();
    assert_eq!(r.status().as_u16(), 413);
    let (s, _) = get(&ed.url("/api/save"));
    assert_eq!(s, 405);
    let (s, _) = get(&ed.url("/etc/passwd"));
    assert_eq!(s, 404);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), original);

    // the page and the frame
    let (s, page) = get(&ed.url("/"));
    assert_eq!(s, 200);
    let page = String::from_utf8(page).unwrap();
    assert!(page.contains("Veil zone editor") && !page.contains("http://") && !page.contains("https://"));
    let (s, png) = get(&ed.url("/frame.png"));
    assert_eq!(s, 200);
    let frame = veil::redact::image::load_from_memory(&png).unwrap().to_rgb8();
    assert_eq!(frame.dimensions(), (768, 576));

    // load
    let (s, b) = get(&ed.url("/api/zones"));
    assert_eq!(s, 200);
    let loaded = json(&b);
    assert_eq!(loaded["camera"]["id"], "vtest-courtyard");
    assert_eq!(loaded["error"], serde_json::Value::Null);
    let mut zones = loaded["zones"].as_array().unwrap().clone();
    assert_eq!(zones.len(), 5);
    assert_eq!(zones[1]["label"], "Entrance, centre building (red door)");
    assert_eq!(zones[1]["source"], 1);

    // an invalid polygon is refused with the parser's message; the file is untouched
    let mut bad = zones.clone();
    bad[1]["polygon"] = serde_json::json!([[0.1, 0.1], [0.2, 0.1]]);
    let camera = loaded["camera"].clone();
    for endpoint in ["/api/save", "/api/preview"] {
        let (s, b) = post(
            &ed.url(endpoint),
            &serde_json::json!({"camera": camera, "zones": bad}),
        );
        assert_eq!(s, 422, "{endpoint}");
        assert_eq!(
            json(&b)["error"],
            format!(
                "{}: zone 1 (\"Entrance, centre building (red door)\"): polygon has 2 point(s), needs at least 3",
                file.display()
            )
        );
    }
    assert_eq!(std::fs::read_to_string(&file).unwrap(), original);

    // live preview: the real masker on the real frame
    let mut edited = zones.clone();
    edited.remove(3); // the side door
    edited.push(serde_json::json!({"kind": "workplace", "label": "Kiosk", "polygon": [[0.5, 0.5], [0.6, 0.5], [0.6, 0.6], [0.5, 0.6]],
        "style": null, "block": null, "radius": null, "source": null}));
    let body = serde_json::json!({"camera": camera, "zones": edited});
    let (s, png) = post(&ed.url("/api/preview"), &body);
    assert_eq!(s, 200);
    let prev = veil::redact::image::load_from_memory(&png).unwrap().to_rgb8();
    let kiosk = prev.get_pixel(422, 317); // (0.55, 0.55) of 768x576
    assert!(
        kiosk.0.iter().all(|&c| c <= 2),
        "kiosk not masked in the preview: {kiosk:?}"
    );
    assert_eq!(prev.get_pixel(100, 400), frame.get_pixel(100, 400));

    // save: atomic (a new file renamed over the old one: a hard link to the old file still
    // holds the old text), comments kept, no temporary file left, what redact mask reads
    let link = dir.join("old-link.toml");
    std::fs::hard_link(&file, &link).unwrap();
    let (s, b) = post(&ed.url("/api/save"), &body);
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&b));
    let saved = json(&b);
    assert_eq!(saved["zones"].as_array().unwrap().len(), 5);
    assert_eq!(saved["zones"][4]["source"], 4);
    assert_eq!(std::fs::read_to_string(&link).unwrap(), original);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.starts_with("# Zones for the OpenCV \"vtest\" camera view"),
        "{text}"
    );
    assert!(text.contains("[camera]\nid = \"vtest-courtyard\""));
    let config = CameraConfig::from_file(&file).unwrap();
    assert_eq!(config.zones.len(), 5);
    assert!(config.zones.iter().all(|z| z.label != "Side door, west building"));
    assert_eq!(config.zones[4].label, "Kiosk");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["cam.toml", "old-link.toml"]);

    // a file changed on disk behind the editor's back is not overwritten
    std::fs::write(&file, text.replace("Kiosk", "Kiosk (edited by hand)")).unwrap();
    let (s, b) = post(
        &ed.url("/api/save"),
        &serde_json::json!({"camera": camera, "zones": saved["zones"]}),
    );
    assert_eq!(s, 409, "{}", String::from_utf8_lossy(&b));
    assert!(std::fs::read_to_string(&file)
        .unwrap()
        .contains("Kiosk (edited by hand)"));
    drop(ed);
    zones.clear();
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A chromedriver process and one WebDriver session of headless Chromium, ended on drop.
struct Browser {
    driver: Child,
    base: String,
    session: String,
    _profile: PathBuf,
}

impl Browser {
    fn start(profile: PathBuf) -> Browser {
        for tool in ["/usr/bin/chromium", "/usr/bin/chromedriver"] {
            assert!(
                Path::new(tool).exists(),
                "{tool} is missing: the browser test needs Debian's chromium and chromium-driver (run `make setup`)"
            );
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new("/usr/bin/chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let mut browser = Browser {
            driver,
            base,
            session: String::new(),
            _profile: profile.clone(),
        };
        // chromedriver takes a moment to listen: bounded polling, no timing assertion
        let ready = (0..200).any(|_| {
            let ok = agent()
                .get(&format!("{}/status", browser.base))
                .call()
                .is_ok_and(|r| r.status() == 200);
            if !ok {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            ok
        });
        assert!(ready, "chromedriver did not start");
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--disable-default-apps",
            "--disable-client-side-phishing-detection",
            "--disable-domain-reliability",
            "--no-default-browser-check",
            "--no-pings",
            "--window-size=1400,1350",
            &format!("--user-data-dir={}", profile.display()),
        ];
        let caps = serde_json::json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": "/usr/bin/chromium", "args": args},
        }}});
        let v = browser.cmd("POST", "/session", Some(caps));
        browser.session = v["sessionId"].as_str().expect("a session id").to_owned();
        browser
    }

    /// One WebDriver command; returns its `value`, panics on a WebDriver error.
    fn cmd(&self, method: &str, path: &str, body: Option<serde_json::Value>) -> serde_json::Value {
        let url = if path == "/session" {
            format!("{}{path}", self.base)
        } else {
            format!("{}/session/{}{path}", self.base, self.session)
        };
        let r = match (method, body) {
            ("GET", _) => agent().get(&url).call(),
            ("DELETE", _) => agent().delete(&url).call(),
            (_, b) => agent()
                .post(&url)
                .header("Content-Type", "application/json")
                .send(b.unwrap_or_else(|| serde_json::json!({})).to_string()),
        }
        .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        let status = r.status().as_u16();
        let v: serde_json::Value = serde_json::from_slice(&r.into_body().read_to_vec().unwrap()).unwrap();
        assert_eq!(status, 200, "{method} {path}: {v}");
        v["value"].clone()
    }

    fn script(&self, js: &str) -> serde_json::Value {
        self.cmd(
            "POST",
            "/execute/sync",
            Some(serde_json::json!({"script": js, "args": []})),
        )
    }

    /// Wait (bounded) until `js` returns a non-null value, and return it.
    fn wait_for(&self, js: &str) -> serde_json::Value {
        for _ in 0..400 {
            let v = self.script(js);
            if !v.is_null() {
                return v;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let state = self.script(
            "return [previewSeq, previewTimer, document.getElementById('preview').dataset.shown || null, \
             document.getElementById('status').textContent];",
        );
        panic!("page never satisfied: {js} (page state: {state})");
    }

    fn element(&self, css: &str) -> String {
        let v = self.cmd(
            "POST",
            "/element",
            Some(serde_json::json!({"using": "css selector", "value": css})),
        );
        v["element-6066-11e4-a52e-4f735466cecf"]
            .as_str()
            .unwrap_or_else(|| panic!("element {css}: {v}"))
            .to_owned()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = agent()
                .delete(&format!("{}/session/{}", self.base, self.session))
                .call();
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// The cargo target directory of this test binary (target/<profile>/deps/zones_cli-...).
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.ancestors().nth(3).unwrap().to_path_buf()
}

#[test]
fn editor_in_a_real_browser_draws_a_zone_that_masks_that_area() {
    if std::env::var_os("VEIL_SKIP_BROWSER").is_some() {
        eprintln!("VEIL_SKIP_BROWSER is set: browser test not run");
        return;
    }
    let dir = scratch("zones-browser");
    let file = dir.join("new-camera.toml");
    std::fs::write(&file, "# drawn in the browser test\n[camera]\nid = \"browser-cam\"\npurposes = [\"safety\"]\nresponsible = \"Facility management\"\n").unwrap();
    let ed = EditorProcess::start(&fixture(), &file);
    let browser = Browser::start(dir.join("profile"));
    browser.cmd("POST", "/url", Some(serde_json::json!({"url": ed.url("/")})));
    browser.wait_for("return document.body.dataset.ready || null;");

    // four clicks on the frame: a rectangle from (0.25, 0.40) to (0.45, 0.65)
    let canvas = browser.element("#overlay");
    let rect = browser.cmd("GET", &format!("/element/{canvas}/rect"), None);
    let (rx, ry, rw, rh) = (
        rect["x"].as_f64().unwrap(),
        rect["y"].as_f64().unwrap(),
        rect["width"].as_f64().unwrap(),
        rect["height"].as_f64().unwrap(),
    );
    assert!(rw > 300.0 && rh > 200.0, "canvas {rect}");
    // The second point is placed at 0.40 and then dragged to 0.45; a fifth point is added
    // and removed again with a right-click: click, drag and delete, as an operator would.
    let to_view = |nx: f64, ny: f64| ((rx + nx * rw).round(), (ry + ny * rh).round());
    let mv = |(x, y): (f64, f64)| serde_json::json!({"type": "pointerMove", "origin": "viewport", "x": x as i64, "y": y as i64, "duration": 0});
    let down = |b: u8| serde_json::json!({"type": "pointerDown", "button": b});
    let up = |b: u8| serde_json::json!({"type": "pointerUp", "button": b});
    let mut actions = Vec::new();
    for (nx, ny) in [
        (0.25, 0.40),
        (0.40, 0.40),
        (0.45, 0.65),
        (0.25, 0.65),
        (0.35, 0.80),
    ] {
        actions.extend([mv(to_view(nx, ny)), down(0), up(0)]);
    }
    actions.extend([mv(to_view(0.35, 0.80)), down(2), up(2)]);
    actions.extend([
        mv(to_view(0.40, 0.40)),
        down(0),
        mv(to_view(0.43, 0.40)),
        mv(to_view(0.45, 0.40)),
        up(0),
    ]);
    let clicked: Vec<(f64, f64)> = [(0.25, 0.40), (0.45, 0.40), (0.45, 0.65), (0.25, 0.65)]
        .iter()
        .map(|&(nx, ny)| {
            let (x, y) = to_view(nx, ny);
            ((x - rx) / rw, (y - ry) / rh)
        })
        .collect();
    browser.cmd(
        "POST",
        "/actions",
        Some(serde_json::json!({"actions": [{"type": "pointer", "id": "mouse", "parameters": {"pointerType": "mouse"}, "actions": actions}]})),
    );
    let n = browser.script("return zones.length === 1 ? zones[0].polygon.length : -1;");
    assert_eq!(
        n, 4,
        "one zone of four points after five clicks and a right-click"
    );
    // the live preview, rendered by the server's masker, shows the new zone masked
    browser.wait_for(
        "return previewTimer === null && document.getElementById('preview').dataset.shown === String(previewSeq) ? true : null;",
    );
    let px = browser.script(
        "const i = document.getElementById('preview'); const c = document.createElement('canvas'); \
         c.width = i.naturalWidth; c.height = i.naturalHeight; const g = c.getContext('2d'); g.drawImage(i, 0, 0); \
         const at = (x, y) => Array.from(g.getImageData(Math.floor(x * c.width), Math.floor(y * c.height), 1, 1).data.slice(0, 3)); \
         return [at(0.35, 0.52), at(0.10, 0.90)];",
    );
    assert!(
        px[0].as_array().unwrap().iter().all(|v| v.as_u64().unwrap() <= 2),
        "preview inside the zone: {px}"
    );
    assert!(
        px[1].as_array().unwrap().iter().any(|v| v.as_u64().unwrap() > 20),
        "preview outside the zone: {px}"
    );
    let save = browser.element("#save");
    browser.cmd(
        "POST",
        &format!("/element/{save}/click"),
        Some(serde_json::json!({})),
    );
    let state = browser.wait_for(
        "const s = document.getElementById('status').dataset.state; return s === 'saved' || s === 'error' ? s : null;",
    );
    // the screenshot is kept as the test's artefact, whatever happens next
    let shot = browser.cmd("GET", "/screenshot", None);
    use base64::Engine as _;
    let png = base64::engine::general_purpose::STANDARD
        .decode(shot.as_str().unwrap())
        .unwrap();
    let artefacts = target_dir().join("test-artefacts");
    std::fs::create_dir_all(&artefacts).unwrap();
    std::fs::write(artefacts.join("zone-editor-browser.png"), &png).unwrap();
    let status = browser.script("return document.getElementById('status').textContent;");
    assert_eq!(state, "saved", "{status}");
    let shot = veil::redact::image::load_from_memory(&png).unwrap().to_rgb8();
    assert!(
        shot.width() >= 1000,
        "screenshot {}x{}",
        shot.width(),
        shot.height()
    );
    drop(browser);
    drop(ed);

    // the file on disk: the comment and camera kept, one zone at the clicked points
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.starts_with("# drawn in the browser test\n[camera]\nid = \"browser-cam\""),
        "{text}"
    );
    let config = CameraConfig::from_file(&file).unwrap();
    assert_eq!(config.zones.len(), 1);
    let pts = config.zones[0].polygon.points();
    assert_eq!(pts.len(), 4);
    for (p, c) in pts.iter().zip(&clicked) {
        assert!(
            (p[0] - c.0).abs() < 2.0 / rw && (p[1] - c.1).abs() < 2.0 / rh,
            "{p:?} vs clicked {c:?}"
        );
    }
    // ... and masks that area: inside black, outside untouched, on the fixture's geometry
    let (w, h) = (768u32, 576u32);
    let mut frame = Frame::new(PixelFormat::Gray8, w, h).unwrap();
    for y in 0..h {
        frame.as_mut().planes_mut()[0].row_mut(y).fill(200);
    }
    let masker = veil::core::CaptureMasker::new(&config, w, h, PixelFormat::Gray8).unwrap();
    masker.apply(&mut frame.as_mut()).unwrap();
    let (x0, x1, y0, y1) = (0.25 * 768.0, 0.45 * 768.0, 0.40 * 576.0, 0.65 * 576.0);
    let (mut n_in, mut n_out) = (0, 0);
    for y in 0..h {
        let row = frame.as_ref().planes()[0].row(y).to_vec();
        for x in 0..w {
            let (cx, cy) = (f64::from(x) + 0.5, f64::from(y) + 0.5);
            if cx > x0 + 3.0 && cx < x1 - 3.0 && cy > y0 + 3.0 && cy < y1 - 3.0 {
                assert_eq!(row[x as usize], 0, "({x}, {y}) inside the drawn zone");
                n_in += 1;
            } else if cx < x0 - 3.0 || cx > x1 + 3.0 || cy < y0 - 3.0 || cy > y1 + 3.0 {
                assert_eq!(row[x as usize], 200, "({x}, {y}) outside the drawn zone");
                n_out += 1;
            }
        }
    }
    assert!(n_in > 20_000 && n_out > 380_000, "{n_in} inside, {n_out} outside");
    std::fs::remove_dir_all(&dir).unwrap();
}
