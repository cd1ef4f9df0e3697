//! Syncs against local fake provider servers answering in the providers' documented formats.

use std::time::Duration;

use pf_data::models::{OkxBalance, OkxTransaction, Web3Token, WiseBalance, WiseTransaction};
use pf_data::resource::{ListFilter, Resource};
use provider_sync::evm::{EvmConfig, EvmToken};
use provider_sync::ibkr::{IbkrConfig, PollPolicy};
use provider_sync::okx::OkxConfig;
use provider_sync::wise::WiseConfig;
use provider_sync::ProviderConfigs;
use serde_json::{json, Value};
use test_kit::TestDb;

use crate::fake::{fast_http, json as reply_json, FakeServer, Request};
use crate::{counts, fixture, table};
use imports::{Source, SyncReport};

const OKX_KEY: &str = "okx-KEY-77aa";
const OKX_SECRET: &str = "okx-SECRET-9f9f9f";
const OKX_PASS: &str = "okx-PASS-x1";
const WISE_TOKEN: &str = "wise-TOKEN-4242";
const IBKR_TOKEN: &str = "flex-TOKEN-1313";
const RPC_KEY: &str = "rpcKEY-5150";

fn all<R: Resource>(conn: &mut db_conn::DbConnection) -> Vec<R> {
    let filter = ListFilter {
        limit: 500,
        ..ListFilter::default()
    };
    R::list(conn, &filter).unwrap()
}

/// The report as JSON, checked to hold none of the secrets.
fn shown(report: &SyncReport) -> String {
    let text = serde_json::to_string(report).unwrap();
    for secret in [
        OKX_KEY, OKX_SECRET, OKX_PASS, WISE_TOKEN, IBKR_TOKEN, RPC_KEY,
    ] {
        assert!(!text.contains(secret), "secret in {text}");
    }
    text
}

#[test]
fn without_tokens_every_provider_is_off() {
    let mut conn = TestDb::sqlite().migrated();
    let report = imports::sync(&mut conn, &ProviderConfigs::default());
    let off: Vec<_> = report
        .providers
        .iter()
        .map(|p| {
            (
                p.provider.as_str(),
                p.status.as_str(),
                p.message.as_deref().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        off,
        [
            ("ibkr", "off", "off: set IBKR_FLEX_TOKEN"),
            ("wise", "off", "off: set WISE_API_TOKEN"),
            ("okx", "off", "off: set OKX_API_KEY"),
            ("evm", "off", "off: set EVM_RPC_URL"),
        ]
    );
    assert_eq!(counts(&mut conn)["import_runs"], 0);
}

fn bill(id: &str, bal: &str, chg: &str, ts: &str) -> Value {
    json!({"bal": bal, "balChg": chg, "billId": id, "ccy": "USDT", "execType": "T", "fee": "-0.01",
           "instId": "BTC-USDT", "instType": "SPOT", "ordId": "1", "pnl": "0", "px": "27105.9",
           "subType": "1", "sz": "0.5", "ts": ts, "type": "2"})
}

fn okx_server() -> FakeServer {
    FakeServer::start(|req: &Request| match req.path() {
        "/api/v5/account/bills" => {
            // A second sync asks only for bills newer than the stored cursor.
            let data = match req.query("before").as_deref() {
                Some("700") => json!([]),
                _ => json!([
                    bill("700", "100.5", "-1.5", "1695033476167"),
                    bill("699", "102", "2", "1695033400000")
                ]),
            };
            reply_json(json!({"code": "0", "msg": "", "data": data}).to_string())
        }
        "/api/v5/account/balance" => reply_json(
            json!({"code": "0", "msg": "", "data": [{"totalEq": "100.5", "uTime": "1695033500000",
                "details": [{"ccy": "USDT", "eq": "100.5", "cashBal": "100.5", "availBal": "90.5",
                             "frozenBal": "10", "eqUsd": "100.49", "uTime": "1695033500000"}]}]})
            .to_string(),
        ),
        _ => (404, "application/json", b"{}".to_vec()),
    })
}

fn okx_configs(base: &str) -> ProviderConfigs {
    let mut config = OkxConfig::new(OKX_KEY, OKX_SECRET, OKX_PASS);
    config.base_url = base.to_owned();
    config.http = fast_http();
    ProviderConfigs {
        okx: Some(config),
        ..ProviderConfigs::default()
    }
}

#[test]
fn okx_sync_writes_bills_and_balance_and_keeps_the_cursor() {
    for db in TestDb::each("okx_sync_writes_bills_and_balance") {
        let mut conn = db.migrated();
        let b = db.name();
        let server = okx_server();
        let configs = okx_configs(&server.url());
        let report = imports::sync_only(&mut conn, &configs, Source::Okx);
        shown(&report);
        let okx = &report.providers[0];
        assert_eq!(okx.status, "ok", "{b}: {:?}", okx.message);
        let r = okx.report.as_ref().unwrap();
        assert_eq!(table(r, "okx_transactions"), (2, 0, 0), "{b}");
        assert_eq!(table(r, "okx_balances"), (1, 0, 0), "{b}");
        let bills: Vec<OkxTransaction> = all(&mut conn);
        assert_eq!(bills[0].bill_id, "700");
        assert_eq!(bills[0].amount.to_string(), "-1.5");
        let balances: Vec<OkxBalance> = all(&mut conn);
        assert_eq!(balances[0].available.to_string(), "90.5", "{b}");
        assert_eq!(balances[0].sync_cursor.as_deref(), Some("700"), "{b}");
        assert!(balances[0].last_synced_at.is_some());

        let again = imports::sync_only(&mut conn, &configs, Source::Okx);
        let r = again.providers[0].report.as_ref().unwrap();
        assert_eq!((r.added, r.updated, r.skipped), (0, 0, 1), "{b}: {again:?}");
        let asked: Vec<_> = server
            .requests()
            .iter()
            .filter(|q| q.path() == "/api/v5/account/bills")
            .map(|q| q.query("before"))
            .collect();
        assert_eq!(asked, [None, Some("700".to_owned())], "{b}");
        let runs = imports::latest_runs(&mut conn, 5).unwrap();
        assert_eq!(runs[0].source, "okx-sync");
    }
}

#[test]
fn failing_provider_is_reported_and_recorded_without_secrets() {
    for db in TestDb::each("failing_provider_is_reported") {
        let mut conn = db.migrated();
        let server = FakeServer::start(|_: &Request| {
            (
                401,
                "application/json",
                br#"{"code":"50111","msg":"Invalid OK-ACCESS-KEY","data":[]}"#.to_vec(),
            )
        });
        let before = counts(&mut conn);
        let report = imports::sync_only(&mut conn, &okx_configs(&server.url()), Source::Okx);
        shown(&report);
        assert_eq!(report.providers[0].status, "failed");
        let message = report.providers[0].message.clone().unwrap();
        assert!(
            message.contains("401") || message.contains("50111"),
            "{message}"
        );
        let after = counts(&mut conn);
        for (name, n) in &before {
            assert_eq!(after[name], n + i64::from(*name == "import_runs"), "{name}");
        }
        let run = &imports::latest_runs(&mut conn, 1).unwrap()[0];
        assert_eq!(
            (run.status.as_str(), run.error.as_deref()),
            ("failed", Some(message.as_str()))
        );
    }
}

#[test]
fn wise_sync_writes_the_statement_and_moves_the_cursor() {
    for db in TestDb::each("wise_sync_writes_the_statement") {
        let mut conn = db.migrated();
        let b = db.name();
        let server = FakeServer::start(|req: &Request| match req.path() {
            "/v4/profiles/42/balances" => reply_json(
                r#"[{"id": 200001, "currency": "EUR", "type": "STANDARD",
                     "amount": {"value": 1520.35, "currency": "EUR"},
                     "reservedAmount": {"value": 0.10, "currency": "EUR"}}]"#,
            ),
            "/v1/profiles/42/balance-statements/200001/statement.json" => reply_json(
                r#"{"accountHolder": {}, "transactions": [
                    {"type": "DEBIT", "date": "2024-01-05T10:00:00.000Z",
                     "amount": {"value": -250.00, "currency": "EUR"},
                     "totalFees": {"value": 0.00, "currency": "EUR"},
                     "details": {"type": "TRANSFER", "description": "Sent money to Anna Schmidt"},
                     "runningBalance": {"value": 1520.35, "currency": "EUR"},
                     "referenceNumber": "TRANSFER-812345678"}],
                   "endOfStatementBalance": {"value": 1520.35, "currency": "EUR"}}"#,
            ),
            _ => (404, "application/json", b"{}".to_vec()),
        });
        let mut config = WiseConfig::new(WISE_TOKEN);
        config.base_url = server.url();
        config.profile_id = Some(42);
        config.http = fast_http();
        let configs = ProviderConfigs {
            wise: Some(config),
            ..ProviderConfigs::default()
        };
        let report = imports::sync_only(&mut conn, &configs, Source::Wise);
        shown(&report);
        let r = report.providers[0].report.as_ref().expect("ok");
        assert_eq!(table(r, "wise_transactions"), (1, 0, 0), "{b}");
        assert_eq!(table(r, "wise_balances"), (1, 0, 0), "{b}");
        let rows: Vec<WiseTransaction> = all(&mut conn);
        assert_eq!(
            (
                rows[0].profile_id.as_str(),
                rows[0].account_id.as_str(),
                rows[0].amount.to_string()
            ),
            ("42", "200001", "-250".to_owned()),
            "{b}"
        );
        let balances: Vec<WiseBalance> = all(&mut conn);
        assert_eq!(balances[0].available.to_string(), "1520.35", "{b}");
        assert_eq!(balances[0].reserved.to_string(), "0.1", "{b}");
        let cursor = balances[0].sync_cursor.clone().expect("cursor stored");
        assert!(balances[0].last_synced_at.is_some());

        // The CSV export of the same transaction later changes nothing and keeps the ids.
        let csv =
            imports::import_bytes(&mut conn, Source::Wise, &fixture("wise_statement.csv")).unwrap();
        assert_eq!(
            table(&csv, "wise_transactions").1,
            1,
            "{b}: the CSV adds the reference"
        );

        imports::sync_only(&mut conn, &configs, Source::Wise);
        let starts: Vec<_> = server
            .requests()
            .iter()
            .filter(|q| q.path().ends_with("statement.json"))
            .filter_map(|q| q.query("intervalStart"))
            .collect();
        assert_eq!(starts.len(), 2);
        let start = chrono::DateTime::parse_from_rfc3339(&starts[1]).unwrap();
        let stored = chrono::DateTime::parse_from_rfc3339(&cursor).unwrap();
        assert_eq!(
            start.timestamp_millis(),
            stored.timestamp_millis(),
            "{b}: second sync starts at the cursor"
        );
        let rows: Vec<WiseTransaction> = all(&mut conn);
        assert_eq!(
            rows.iter()
                .find(|r| r.transaction_id == "TRANSFER-812345678")
                .unwrap()
                .profile_id,
            "42"
        );
    }
}

#[test]
fn ibkr_and_evm_syncs_go_through_the_importers() {
    for db in TestDb::each("ibkr_and_evm_syncs") {
        let mut conn = db.migrated();
        let b = db.name();
        let statement = fixture("ibkr_flex.xml");
        // IBKR names the statement host in its answer: this server, known once it is bound.
        let own_url = std::sync::Arc::new(std::sync::OnceLock::<String>::new());
        let url = std::sync::Arc::clone(&own_url);
        let server = FakeServer::start(move |req: &Request| {
            match req.path() {
            "/AccountManagement/FlexWebService/SendRequest" => (200, "text/xml", format!(
                "<FlexStatementResponse timestamp=\"x\"><Status>Success</Status><ReferenceCode>111</ReferenceCode>\
                 <Url>{}/AccountManagement/FlexWebService/GetStatement</Url></FlexStatementResponse>",
                url.get().map_or("", String::as_str)
            ).into_bytes()),
            "/AccountManagement/FlexWebService/GetStatement" => (200, "text/xml", statement.clone()),
            path if path.starts_with("/rpc/") => {
                let call: Value = serde_json::from_slice(&req.body).unwrap();
                let result = match call["method"].as_str().unwrap() {
                    "eth_blockNumber" => "0x10".to_owned(),
                    "eth_getBalance" => "0x14d1120d7b160000".to_owned(),
                    _ => format!("0x{:064x}", 1_234_567_891u64),
                };
                reply_json(json!({"jsonrpc": "2.0", "id": call["id"], "result": result}).to_string())
            }
            _ => (404, "text/plain", Vec::new()),
        }
        });
        own_url.set(server.url()).unwrap();
        let mut ibkr = IbkrConfig::new(IBKR_TOKEN, "445566");
        ibkr.base_url = server.url();
        ibkr.http = fast_http();
        ibkr.poll = PollPolicy {
            initial_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
            deadline: Duration::from_secs(5),
        };
        let mut evm = EvmConfig::new(
            format!("{}/rpc/{RPC_KEY}", server.url()),
            vec!["0x1111111111111111111111111111111111111111".into()],
        );
        evm.tokens = vec![EvmToken {
            symbol: "USDC".into(),
            contract: "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48".into(),
            decimals: 6,
        }];
        evm.http = fast_http();
        let configs = ProviderConfigs {
            ibkr: Some(ibkr),
            evm: Some(evm),
            ..ProviderConfigs::default()
        };
        let report = imports::sync(&mut conn, &configs);
        let text = shown(&report);
        let status: Vec<_> = report.providers.iter().map(|p| p.status.as_str()).collect();
        assert_eq!(status, ["ok", "off", "off", "ok"], "{b}: {text}");
        let ibkr = report.providers[0].report.as_ref().unwrap();
        assert_eq!(ibkr.added, 8, "{b}");
        let tokens: Vec<Web3Token> = all(&mut conn);
        let got: Vec<_> = tokens
            .iter()
            .map(|t| (t.token_symbol.as_str(), t.balance.to_string()))
            .collect();
        assert_eq!(
            got,
            [
                ("ETH", "1.5".to_owned()),
                ("USDC", "1234.567891".to_owned())
            ],
            "{b}"
        );
        let logs: Vec<pf_data::models::IbkrSyncLog> = all(&mut conn);
        assert_eq!(logs[0].sync_type, "flex_sync", "{b}");
        let runs = imports::latest_runs(&mut conn, 5).unwrap();
        let sources: Vec<_> = runs.iter().map(|r| r.source.as_str()).collect();
        assert!(
            sources.contains(&"ibkr-sync") && sources.contains(&"evm-sync"),
            "{sources:?}"
        );
    }
}
