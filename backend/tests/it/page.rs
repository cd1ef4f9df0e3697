//! The page at `/`: its login and session cookie (in-process), and the real page drawn by
//! Debian's headless Chromium from seeded snapshots and import runs (served by the binary).

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{header, HeaderMap, Request, StatusCode};
use backend::api::{self, AppState, Auth, TokenRule};
use chrono::{Days, NaiveDate, Utc};
use diesel::RunQueryDsl;
use http_body_util::BodyExt;
use pf_data::models::{ImportRun, NewAssetSnapshot, NewImportRun};
use pf_data::resource::Resource;
use tower::ServiceExt;

use crate::binary;
use crate::support::{TestDb, TOKEN};

const OTHER_TOKEN: &str = "another-token-fedcba9876543210";

/// The router over `db` with `auth`, called in-process, answering raw (HTML, cookies).
struct PageApp(axum::Router);

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Reply {
    fn header(&self, name: header::HeaderName) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// `pf_session=<value>` from Set-Cookie, ready for a Cookie header.
    fn session_cookie(&self) -> String {
        let set = self.header(header::SET_COOKIE);
        assert!(set.starts_with("pf_session="), "no session cookie: {set:?}");
        set.split(';').next().unwrap().to_owned()
    }
}

impl PageApp {
    fn new(db: &TestDb, auth: Auth) -> Self {
        drop(db.migrated());
        let pool = db_conn::pool(&db.target).expect("pool");
        Self(api::router(AppState::new(pool, db.target.clone(), auth)))
    }

    async fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Reply {
        let mut req = Request::builder().method(method).uri(path);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = req
            .body(body.map(|b| Body::from(b.to_owned())).unwrap_or_default())
            .expect("request");
        let response = self
            .0
            .clone()
            .oneshot(req)
            .await
            .expect("router never fails");
        let (parts, body) = response.into_parts();
        let bytes = body.collect().await.expect("body").to_bytes();
        Reply {
            status: parts.status,
            headers: parts.headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    async fn get(&self, path: &str, cookie: &str) -> Reply {
        self.send("GET", path, &[("cookie", cookie)], None).await
    }

    async fn log_in(&self, token: &str) -> Reply {
        let form = format!("token={token}");
        let headers = [("content-type", "application/x-www-form-urlencoded")];
        self.send("POST", "/login", &headers, Some(&form)).await
    }
}

#[tokio::test]
async fn login_sets_a_session_cookie_that_opens_the_page_and_api_reads() {
    for db in TestDb::each("login_sets_a_session_cookie_that_opens_the_page_and_api_reads") {
        let app = PageApp::new(
            &db,
            Auth::from_token(Some(TOKEN.into()), TokenRule::Required).unwrap(),
        );

        let form = app.get("/", "").await;
        assert_eq!(form.status, StatusCode::OK);
        assert!(form.body.contains(r#"id="login-form""#) && !form.body.contains("app.js"));

        let wrong = app.log_in("not-the-token-0123456789").await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED, "{}", wrong.body);
        assert!(wrong.body.contains(r#"id="login-error""#));
        assert!(wrong.headers.get(header::SET_COOKIE).is_none());

        let right = app.log_in(TOKEN).await;
        assert_eq!(right.status, StatusCode::SEE_OTHER);
        assert_eq!(right.header(header::LOCATION), "/");
        let set = right.header(header::SET_COOKIE);
        for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
            assert!(set.contains(attribute), "{set}");
        }
        assert!(
            !set.contains(TOKEN),
            "the cookie must not hold the token: {set}"
        );
        let cookie = right.session_cookie();

        let page = app.get("/", &cookie).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains(r#"id="networth""#) && page.body.contains("/assets/app.js"));
        let js = app.get("/assets/app.js", &cookie).await;
        assert_eq!(js.status, StatusCode::OK);
        assert!(js
            .header(header::CONTENT_TYPE)
            .starts_with("text/javascript"));
        assert_eq!(
            app.get("/assets/app.js", "").await.status,
            StatusCode::UNAUTHORIZED
        );

        let net_worth = app.get("/api/v1/net-worth", &cookie).await;
        assert_eq!(net_worth.status, StatusCode::OK, "{}", net_worth.body);
        let json: serde_json::Value = serde_json::from_str(&net_worth.body).unwrap();
        assert!(
            json["base_currency"].is_string() && json["days"].is_array(),
            "{json}"
        );
        assert_eq!(
            app.get("/health/data", &cookie).await.status,
            StatusCode::OK
        );
        assert_eq!(
            app.get("/api/v1/net-worth", "").await.status,
            StatusCode::UNAUTHORIZED
        );
        // Unknown routes: refused without auth, routed (404) with it.
        assert_eq!(app.get("/nope", "").await.status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            app.get("/nope", &cookie).await.status,
            StatusCode::NOT_FOUND
        );

        // The cookie stands in for the header on reads only.
        let write = app
            .send(
                "POST",
                "/api/v1/system_config",
                &[("cookie", &cookie), ("content-type", "application/json")],
                Some(r#"{"config_key":"k","config_value":"v","description":null}"#),
            )
            .await;
        assert_eq!(write.status, StatusCode::UNAUTHORIZED, "{}", write.body);

        // `/?token=` logs in once, to the same session, and sends the token out of the URL.
        let once = app.get(&format!("/?token={TOKEN}"), "").await;
        assert_eq!(once.status, StatusCode::SEE_OTHER);
        assert_eq!(once.header(header::LOCATION), "/");
        assert_eq!(once.session_cookie(), cookie);
        let bad_once = app.get("/?token=wrong-token-0123456789", "").await;
        assert_eq!(bad_once.status, StatusCode::UNAUTHORIZED);
        assert!(bad_once.headers.get(header::SET_COOKIE).is_none());

        let out = app
            .send("POST", "/logout", &[("cookie", &cookie)], None)
            .await;
        assert_eq!(out.status, StatusCode::SEE_OTHER);
        let cleared = out.header(header::SET_COOKIE);
        assert!(
            cleared.starts_with("pf_session=;") && cleared.contains("Max-Age=0"),
            "{cleared}"
        );
    }
}

#[tokio::test]
async fn a_session_cookie_of_another_token_is_refused() {
    let db = TestDb::sqlite();
    let app = PageApp::new(
        &db,
        Auth::from_token(Some(TOKEN.into()), TokenRule::Required).unwrap(),
    );
    let other = PageApp::new(
        &db,
        Auth::from_token(Some(OTHER_TOKEN.into()), TokenRule::Required).unwrap(),
    );
    // A genuine session of this process, but for a token that is not this service's.
    let foreign = other.log_in(OTHER_TOKEN).await.session_cookie();
    let raw_token = format!("pf_session={TOKEN}");
    for cookie in [foreign.as_str(), raw_token.as_str(), "pf_session="] {
        for path in [
            "/health/data",
            "/api/v1/net-worth",
            "/api/v1/asset_snapshots",
            "/assets/app.js",
        ] {
            let reply = app.get(path, cookie).await;
            assert_eq!(
                reply.status,
                StatusCode::UNAUTHORIZED,
                "{path} with {cookie}"
            );
        }
        let page = app.get("/", cookie).await;
        assert!(page.body.contains(r#"id="login-form""#), "{cookie}");
    }
    // The header path is unchanged, with or without a cookie beside it.
    let bearer = format!("Bearer {TOKEN}");
    let reply = app
        .send(
            "GET",
            "/health/data",
            &[("authorization", &bearer), ("cookie", &foreign)],
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
}

#[tokio::test]
async fn dev_mode_serves_the_page_without_a_login() {
    let db = TestDb::sqlite();
    let app = PageApp::new(
        &db,
        Auth::from_token(None, TokenRule::OptionalForDev).unwrap(),
    );
    let page = app.get("/", "").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(r#"id="networth""#));
    let login = app.log_in("anything").await;
    assert_eq!(login.status, StatusCode::SEE_OTHER);
    assert!(login.headers.get(header::SET_COOKIE).is_none());
}

/// One seeded holding: platform, asset code, currency, and its base value in cents on day
/// `d` (0 = oldest). The API writes sums with at least two decimals: exactly [`cents`].
type Holding = (&'static str, &'static str, &'static str, fn(i64) -> i64);
const HOLDINGS: &[Holding] = &[
    ("IBKR", "AAPL", "USD", |d| 123_456_701 + 1_001 * d),
    ("IBKR", "CNY", "CNY", |d| 5_000_003 + 7 * d),
    ("Wise", "EUR", "EUR", |d| 2_345_611 + 3 * d),
    ("Wise", "USD", "USD", |d| 1_000_009 - 2 * d),
    ("OKX", "BTC", "USDT", |d| {
        87_654_321 - 40_000 * d + (d * d % 11) * 100_001
    }),
];
const DAYS: i64 = 30;

/// (platform or currency, amount as the API writes it), in key order.
type Amounts = Vec<(String, String)>;

fn cents(c: i64) -> String {
    format!("{}.{:02}", c / 100, c % 100)
}

/// What the page must show with thousands separators: "1234567.01" -> "1,234,567.01".
fn grouped(amount: &str) -> String {
    let (int, frac) = amount.split_once('.').unwrap();
    let mut out = String::new();
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    format!("{out}.{frac}")
}

/// `DAYS` days of snapshots ending two days ago (inside the service's window whatever its
/// time zone), in one transaction; returns the last day and its sums by platform and currency.
fn seed_snapshots(db: &TestDb) -> (NaiveDate, Amounts, Amounts) {
    let last = Utc::now().date_naive() - Days::new(2);
    let mut rows = Vec::new();
    for d in 0..DAYS {
        let date = last - Days::new((DAYS - 1 - d) as u64);
        for (platform, code, currency, base) in HOLDINGS {
            rows.push(NewAssetSnapshot {
                snapshot_date: date,
                snapshot_time: date.and_hms_opt(16, 0, 0).unwrap(),
                platform: (*platform).into(),
                asset_type: match (*platform, *code == *currency) {
                    (_, true) => "CASH",
                    ("OKX", false) => "CRYPTO",
                    _ => "STOCK",
                }
                .into(),
                asset_code: (*code).into(),
                asset_name: None,
                currency: (*currency).into(),
                quantity: "1".parse().unwrap(),
                price: None,
                value: cents(base(d)).parse().unwrap(),
                base_value: Some(cents(base(d)).parse().unwrap()),
            });
        }
    }
    use pf_data::schema::asset_snapshots::dsl::asset_snapshots;
    let inserted = match db.connect() {
        db_conn::DbConnection::Pg(mut c) => diesel::insert_into(asset_snapshots)
            .values(&rows)
            .execute(&mut c),
        db_conn::DbConnection::Sqlite(mut c) => diesel::insert_into(asset_snapshots)
            .values(&rows)
            .execute(&mut c),
    };
    assert_eq!(inserted.expect("seed snapshots"), rows.len());
    let sum_by = |key: fn(&Holding) -> &'static str| {
        let mut sums = std::collections::BTreeMap::<String, i64>::new();
        for h in HOLDINGS {
            *sums.entry(key(h).to_owned()).or_default() += (h.3)(DAYS - 1);
        }
        sums.into_iter()
            .map(|(k, c)| (k, cents(c)))
            .collect::<Vec<_>>()
    };
    (last, sum_by(|h| h.0), sum_by(|h| h.2))
}

fn seed_import_runs(db: &TestDb) -> Vec<ImportRun> {
    let mut conn = db.connect();
    let at = |h| Utc::now().naive_utc() - chrono::Duration::hours(h);
    let run = |source: &str, status: &str, hours, error: Option<&str>| NewImportRun {
        source: source.into(),
        file_sha256: Some(format!("{source:0>8}{}", "ab".repeat(28))),
        started_at: at(hours),
        finished_at: Some(at(hours) + chrono::Duration::seconds(3)),
        status: status.into(),
        added: 3,
        updated: 1,
        skipped: 2,
        error: error.map(str::to_owned),
    };
    [
        run("ibkr", "ok", 3, None),
        run("wise", "ok", 2, None),
        run(
            "okx",
            "failed",
            1,
            Some("statement refused: unknown column"),
        ),
    ]
    .iter()
    .map(|r| ImportRun::create(&mut conn, r).expect("seed import run"))
    .collect()
}

/// The opening tag of the element with `id` in a dumped DOM.
fn tag<'a>(dom: &'a str, id: &str) -> &'a str {
    let at = dom
        .find(&format!(r#" id="{id}""#))
        .unwrap_or_else(|| panic!("no element #{id} in the page: {dom}"));
    let start = dom[..at].rfind('<').unwrap();
    &dom[start..at + dom[at..].find('>').unwrap() + 1]
}

fn attr<'a>(tag: &'a str, name: &str) -> &'a str {
    let key = format!(r#" {name}=""#);
    let start = tag
        .find(&key)
        .unwrap_or_else(|| panic!("no {name} in {tag}"))
        + key.len();
    &tag[start..start + tag[start..].find('"').unwrap()]
}

/// The markup from the element with `id` to the end of its table.
fn table<'a>(dom: &'a str, id: &str) -> &'a str {
    let start = dom
        .find(&format!(r#" id="{id}""#))
        .unwrap_or_else(|| panic!("no #{id}: {dom}"));
    &dom[start..start + dom[start..].find("</table>").unwrap()]
}

fn assert_breakdown(dom: &str, id: &str, expected: &Amounts) {
    let table = table(dom, id);
    assert_eq!(
        attr(table, "data-rows"),
        expected.len().to_string(),
        "{table}"
    );
    for (key, amount) in expected {
        let row = format!(
            r#"<tr data-key="{key}" data-value="{amount}"><th scope="row">{key}</th><td class="amount">{}</td>"#,
            grouped(amount)
        );
        assert!(table.contains(&row), "#{id} lacks {row}: {table}");
    }
}

/// Debian's `chromium` on PATH, else the names Ubuntu and CI runners give it (or Chrome's).
fn chromium() -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            std::env::split_paths(&path)
                .map(|dir| dir.join(name))
                .find(|p| p.is_file())
        })
}

/// Runs headless Chromium on `url` with `extra` arguments; returns its stdout.
fn run_chromium(bin: &std::path::Path, url: &str, extra: &[&str]) -> String {
    const DEADLINE: Duration = Duration::from_secs(90);
    let profile = tempfile::tempdir().expect("profile dir");
    let mut child = Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
        ])
        .args([
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--virtual-time-budget=10000")
        .args(extra)
        .arg(url)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start chromium");
    let mut pipes = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = pipes.0.read_to_string(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = pipes.1.read_to_string(&mut s);
        s
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for chromium") {
            break status;
        }
        if started.elapsed() > DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "chromium ran longer than {DEADLINE:?}: {}",
                err.join().unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stdout = out.join().unwrap_or_default();
    assert!(
        status.success(),
        "chromium failed ({status}): {}",
        err.join().unwrap_or_default()
    );
    stdout
}

#[test]
fn chromium_draws_the_seeded_net_worth_breakdowns_imports_and_health() {
    let Some(bin) = chromium() else {
        test_kit::skip_check(
            "REQUIRE_CHROMIUM",
            "the page test: no `chromium` on PATH (apt-get install chromium)",
        );
        return;
    };
    for db in TestDb::each("chromium_draws_the_seeded_net_worth_breakdowns_imports_and_health") {
        drop(db.migrated());
        let (last, by_platform, by_currency) = seed_snapshots(&db);
        let runs = seed_import_runs(&db);
        let server = binary::start(&db, &[]);
        let url = format!("http://{}/?token={TOKEN}", server.addr);
        let dom = run_chromium(&bin, &url, &["--dump-dom"]);
        let backend = db.name();

        let chart = tag(&dom, "networth-chart");
        assert_eq!(
            attr(chart, "data-points"),
            DAYS.to_string(),
            "{backend}: {chart}"
        );
        assert_eq!(attr(chart, "data-to"), last.to_string());
        assert_eq!(attr(chart, "data-currency"), "CNY");
        let line = tag(&dom, "networth-line");
        let d = attr(line, "d");
        assert_eq!(
            d.matches('M').count() + d.matches('L').count(),
            DAYS as usize,
            "{d}"
        );
        assert!(
            dom.contains(&format!(">{last}</text>")),
            "the x axis ends on the last day"
        );

        let total: i64 = HOLDINGS.iter().map(|h| (h.3)(DAYS - 1)).sum();
        let total = cents(total);
        assert_eq!(attr(tag(&dom, "networth-total"), "data-value"), total);
        assert!(
            dom.contains(&format!(">{} CNY</span>", grouped(&total))),
            "{backend}"
        );
        assert_breakdown(&dom, "platform-table", &by_platform);
        assert_breakdown(&dom, "currency-table", &by_currency);

        let health = tag(&dom, "health");
        assert_eq!(attr(health, "data-state"), "ready", "{backend}: {dom}");
        let health = table(&dom, "health-table");
        assert!(health.contains(r#"data-key="storage""#) && health.contains("persistent"));
        assert!(health.contains("0 pending"), "{health}");
        assert!(health.contains(r#"data-key="backup""#), "{health}");

        let (status, _) = binary::http(&server.addr, "GET", "/api/v1/imports?limit=10", None);
        if status == 404 {
            eprintln!("NOTICE: imports table not checked: GET /api/v1/imports is not routed yet");
        } else {
            let imports = table(&dom, "imports-table");
            assert_eq!(
                attr(imports, "data-rows"),
                runs.len().to_string(),
                "{imports}"
            );
            for run in &runs {
                let row = format!(r#"<tr data-id="{}" data-status="{}">"#, run.id, run.status);
                assert!(imports.contains(&row), "{backend}: {row} in {imports}");
            }
            assert!(imports.contains("statement refused: unknown column"));
        }
        if let Some(dir) = std::env::var_os("PF_PAGE_SCREENSHOT_DIR") {
            // For a person to look at the page: PF_PAGE_SCREENSHOT_DIR=/tmp cargo test ...
            let png = std::path::Path::new(&dir).join(format!("page-{backend}.png"));
            let shot = format!("--screenshot={}", png.display());
            run_chromium(&bin, &url, &[&shot, "--window-size=1200,900"]);
            eprintln!("screenshot: {}", png.display());
        }
    }
}
