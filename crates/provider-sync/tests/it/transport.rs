//! Retry, backoff, Retry-After and timeout behaviour of the shared transport,
//! exercised through the Wise client.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use provider_sync::wise::WiseClient;
use provider_sync::SyncError;

use crate::common::{assert_error_redacted, FakeServer, Reply};
use crate::wise::{client, config, BALANCES};

const TOKEN: &str = "wise-TOKEN-0c9a77";

#[test]
fn rate_limit_429_honours_retry_after_capped_then_succeeds() {
    // Retry-After: 1 s, capped by max_retry_after = 50 ms in the test settings.
    let server = FakeServer::scripted(vec![
        Reply::json(429, r#"{"error":"too many requests"}"#).header("Retry-After", "1"),
        Reply::json(200, BALANCES),
    ]);
    let started = Instant::now();
    let balances = client(&server.url(), Some(1)).balances(1).unwrap();
    let elapsed = started.elapsed();

    assert_eq!(balances.len(), 2);
    assert_eq!(server.requests().len(), 2);
    assert!(
        elapsed >= Duration::from_millis(50),
        "waited only {elapsed:?}: Retry-After ignored"
    );
    assert!(
        elapsed < Duration::from_millis(900),
        "waited {elapsed:?}: Retry-After not capped"
    );
}

#[test]
fn server_errors_are_retried_then_succeed() {
    let server = FakeServer::scripted(vec![
        Reply::json(500, "boom"),
        Reply::json(502, "bad gateway"),
        Reply::json(200, BALANCES),
    ]);
    let balances = client(&server.url(), Some(1)).balances(1).unwrap();
    assert_eq!(balances.len(), 2);
    assert_eq!(server.requests().len(), 3);
}

#[test]
fn persistent_server_errors_stop_at_max_attempts() {
    let server = FakeServer::start(|_, _| Reply::json(503, "maintenance"));
    let err = client(&server.url(), Some(1)).balances(1).unwrap_err();
    assert_eq!(server.requests().len(), 3);
    assert!(
        matches!(
            &err,
            SyncError::Status {
                status: 503,
                attempts: 3,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("gave up after 3 attempt(s)"),
        "{err}"
    );
    assert_error_redacted(&err, &[TOKEN]);
}

#[test]
fn a_server_that_never_answers_times_out_without_retrying() {
    let server = FakeServer::start(|_, _| Reply::Hang);
    let mut quick = config(&server.url(), Some(1));
    quick.http.timeout = Duration::from_millis(200);
    let started = Instant::now();
    let err = WiseClient::new(quick).unwrap().balances(1).unwrap_err();
    let elapsed = started.elapsed();

    assert!(
        matches!(
            err,
            SyncError::Timeout {
                timeout_ms: 200,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "wise: request to /v4/profiles/1/balances timed out after 200 ms"
    );
    assert!(
        elapsed >= Duration::from_millis(190),
        "gave up early: {elapsed:?}"
    );
    assert!(
        elapsed < Duration::from_secs(3),
        "timeout not enforced: {elapsed:?}"
    );
    assert_eq!(
        server.requests().len(),
        1,
        "a response timeout is not retried"
    );
}

#[test]
fn connection_refused_is_retried_then_reported() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    }; // dropped: nothing listens there now
    let err = client(&format!("http://127.0.0.1:{port}"), Some(1))
        .balances(1)
        .unwrap_err();
    assert!(
        matches!(&err, SyncError::Transport { attempts: 3, .. }),
        "{err:?}"
    );
    assert_error_redacted(&err, &[TOKEN]);
}

#[test]
fn redirects_are_not_followed() {
    let server = FakeServer::scripted(vec![
        Reply::json(302, "").header("Location", "http://127.0.0.1:9/elsewhere")
    ]);
    let err = client(&server.url(), Some(1)).balances(1).unwrap_err();
    assert_eq!(err.status(), Some(302));
    assert!(err.to_string().contains("check WISE_API_BASE_URL"), "{err}");
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn oversized_bodies_are_rejected() {
    let mut small = config("http://unused", Some(1));
    small.http.max_body_bytes = 64;
    let server = FakeServer::scripted(vec![Reply::json(200, BALANCES)]);
    small.base_url = server.url();
    let err = WiseClient::new(small).unwrap().balances(1).unwrap_err();
    assert!(matches!(err, SyncError::Transport { .. }), "{err:?}");
}
