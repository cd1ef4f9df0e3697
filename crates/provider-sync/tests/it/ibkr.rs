use std::time::Duration;

use provider_sync::ibkr::{IbkrClient, IbkrConfig, PollPolicy};
use provider_sync::SyncError;

use crate::common::{assert_error_redacted, assert_redacted, env_of, fast_http, FakeServer, Reply};

const TOKEN: &str = "flex-TOKEN-8815";
const QUERY_ID: &str = "445566";
const STATEMENT: &str = r#"<FlexQueryResponse queryName="nightly" type="AF"><FlexStatements count="1"><FlexStatement accountId="U1234567"/></FlexStatements></FlexQueryResponse>"#;

fn config(base: &str) -> IbkrConfig {
    let mut config = IbkrConfig::new(TOKEN, QUERY_ID);
    config.base_url = base.to_owned();
    config.http = fast_http();
    config.poll = PollPolicy {
        initial_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        deadline: Duration::from_secs(5),
    };
    config
}

fn client(base: &str) -> IbkrClient {
    IbkrClient::new(config(base)).unwrap()
}

fn send_ok(base: &str) -> Reply {
    Reply::xml(format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<FlexStatementResponse timestamp="28 August, 2012 10:37 AM EDT">
<Status>Success</Status>
<ReferenceCode>9876543210</ReferenceCode>
<Url>{base}/AccountManagement/FlexWebService/GetStatement</Url>
</FlexStatementResponse>"#
    ))
}

fn fail(code: &str, message: &str) -> Reply {
    Reply::xml(format!(
        "<FlexStatementResponse timestamp=\"x\"><Status>Fail</Status><ErrorCode>{code}</ErrorCode>\
         <ErrorMessage>{message}</ErrorMessage></FlexStatementResponse>"
    ))
}

#[test]
fn two_step_flow_polls_1019_then_returns_the_statement() {
    let server = FakeServer::start(|req, i| {
        let base = format!("http://{}", req.header("host").unwrap());
        match i {
            0 => send_ok(&base),
            1 => fail(
                "1019",
                "Statement generation in progress. Please try again shortly.",
            ),
            _ => Reply::xml(STATEMENT),
        }
    });
    let bytes = client(&server.url()).fetch_statement().unwrap();
    assert_eq!(bytes, STATEMENT.as_bytes());

    let reqs = server.requests();
    assert_eq!(reqs.len(), 3);
    assert_eq!(
        reqs[0].path(),
        "/AccountManagement/FlexWebService/SendRequest"
    );
    assert_eq!(reqs[0].query("t").as_deref(), Some(TOKEN));
    assert_eq!(reqs[0].query("q").as_deref(), Some(QUERY_ID));
    assert_eq!(reqs[0].query("v").as_deref(), Some("3"));
    for get in &reqs[1..] {
        assert_eq!(get.path(), "/AccountManagement/FlexWebService/GetStatement");
        assert_eq!(get.query("t").as_deref(), Some(TOKEN));
        assert_eq!(get.query("q").as_deref(), Some("9876543210"));
        assert_eq!(get.query("v").as_deref(), Some("3"));
    }
}

#[test]
fn send_request_fail_names_the_token_var_and_hides_the_token() {
    let server = FakeServer::scripted(vec![fail("1015", "Token is invalid.")]);
    let err = client(&server.url()).fetch_statement().unwrap_err();
    match &err {
        SyncError::Api { code, message, .. } => {
            assert_eq!(code, "1015");
            assert_eq!(message, "Token is invalid.");
        }
        other => panic!("expected Api error, got {other:?}"),
    }
    let text = err.to_string();
    assert!(text.contains("IBKR_FLEX_TOKEN"), "{text}");
    assert!(text.contains("t=***"), "{text}");
    assert_error_redacted(&err, &[TOKEN]);
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn gives_up_when_the_statement_stays_in_progress_past_the_deadline() {
    let server = FakeServer::start(|req, i| {
        let base = format!("http://{}", req.header("host").unwrap());
        if i == 0 {
            send_ok(&base)
        } else {
            fail(
                "1019",
                "Statement generation in progress. Please try again shortly.",
            )
        }
    });
    // Polls every 1 ms doubling to 5 ms, for 40 ms.
    let mut short = config(&server.url());
    short.poll.deadline = Duration::from_millis(40);
    let err = IbkrClient::new(short)
        .unwrap()
        .fetch_statement()
        .unwrap_err();
    assert!(
        matches!(&err, SyncError::NotReady { reference, code, .. } if reference == "9876543210" && code == "1019"),
        "{err:?}"
    );
    assert!(
        server.requests().len() >= 3,
        "polled only {} times",
        server.requests().len()
    );
    assert_error_redacted(&err, &[TOKEN]);
}

#[test]
fn refuses_to_send_the_token_to_a_foreign_statement_host() {
    let server = FakeServer::scripted(vec![send_ok("http://elsewhere.example:81")]);
    let err = client(&server.url()).fetch_statement().unwrap_err();
    assert!(matches!(err, SyncError::Refused { .. }), "{err:?}");
    assert!(err.to_string().contains("elsewhere.example"));
    assert_error_redacted(&err, &[TOKEN]);
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn http_errors_and_timeouts_redact_the_query_token() {
    let server = FakeServer::scripted(vec![Reply::json(403, "forbidden")]);
    let err = client(&server.url()).fetch_statement().unwrap_err();
    assert_eq!(err.status(), Some(403));
    assert!(err.to_string().contains("check IBKR_FLEX_TOKEN"), "{err}");
    assert_error_redacted(&err, &[TOKEN]);

    let hang = FakeServer::scripted(vec![Reply::Hang]);
    let mut quick = config(&hang.url());
    quick.http.timeout = Duration::from_millis(200);
    let err = IbkrClient::new(quick)
        .unwrap()
        .fetch_statement()
        .unwrap_err();
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
    assert!(err.to_string().contains("t=***"), "{err}");
    assert_error_redacted(&err, &[TOKEN]);
}

#[test]
fn from_env_requires_the_token_and_query_id() {
    assert!(IbkrConfig::from_env(env_of(&[])).is_none());
    assert!(IbkrConfig::from_env(env_of(&[("IBKR_FLEX_TOKEN", "  ")])).is_none());

    let only_token = env_of(&[("IBKR_FLEX_TOKEN", TOKEN)]);
    let err = IbkrConfig::try_from_env(&only_token).unwrap_err();
    assert!(
        matches!(
            err,
            SyncError::Config {
                var: "IBKR_FLEX_QUERY_ID",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(IbkrConfig::from_env(&only_token).is_none());

    let config = IbkrConfig::from_env(env_of(&[
        ("IBKR_FLEX_TOKEN", TOKEN),
        ("IBKR_FLEX_QUERY_ID", QUERY_ID),
        ("IBKR_FLEX_BASE_URL", "http://127.0.0.1:9"),
    ]))
    .unwrap();
    assert_eq!(config.base_url, "http://127.0.0.1:9");
    assert_eq!(config.query_id, QUERY_ID);
    assert_eq!(config.token.expose(), TOKEN);
    assert_redacted(&config, None, &[TOKEN]);
    assert_redacted(&IbkrClient::new(config).unwrap(), None, &[TOKEN]);

    let default = IbkrConfig::new(TOKEN, QUERY_ID);
    assert_eq!(default.base_url, "https://ndcdyn.interactivebrokers.com");
}
