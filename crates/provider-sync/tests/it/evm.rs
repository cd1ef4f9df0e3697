use std::str::FromStr;

use bigdecimal::BigDecimal;
use provider_sync::evm::{EvmClient, EvmConfig, EvmToken};
use provider_sync::SyncError;
use serde_json::{json, Value};

use crate::common::{
    assert_error_redacted, assert_redacted, env_of, fast_http, FakeServer, Reply, Request,
};

const W1: &str = "0x1111111111111111111111111111111111111111";
const W2: &str = "0xAbCdEf0123456789aBcDeF0123456789AbCdEf01";
const USDC: &str = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48";
const WBTC: &str = "0x2260FAC5E5542a773Aa44fBCfeDf7C193bc2C599";
const API_KEY: &str = "rpcKEY0123456789abcdef";

fn client(base: &str) -> EvmClient {
    let mut config = EvmConfig::new(format!("{base}/v3/{API_KEY}"), vec![W1.into(), W2.into()]);
    config.tokens = vec![
        EvmToken {
            symbol: "USDC".into(),
            contract: USDC.into(),
            decimals: 6,
        },
        EvmToken {
            symbol: "WBTC".into(),
            contract: WBTC.into(),
            decimals: 8,
        },
    ];
    config.http = fast_http();
    EvmClient::new(config).unwrap()
}

fn result(req: &Request, result: &str) -> Reply {
    Reply::json(
        200,
        json!({"jsonrpc": "2.0", "id": req.json()["id"], "result": result}).to_string(),
    )
}

/// A node: W1 holds 1.5 ETH, 1234.567891 USDC, 0 WBTC; W2 holds 2^255 wei and 1 WBTC.
fn node(req: &Request, _: usize) -> Reply {
    let call = req.json();
    assert_eq!(call["jsonrpc"], "2.0");
    assert_eq!(req.path(), format!("/v3/{API_KEY}"));
    let params = &call["params"];
    match call["method"].as_str().unwrap() {
        "eth_blockNumber" => result(req, "0x12a05f2"),
        "eth_getBalance" => {
            assert_eq!(params[1], "latest");
            let wei = if params[0] == W1 {
                "0x14d1120d7b160000".to_owned()
            } else {
                format!("0x8{}", "0".repeat(63))
            };
            result(req, &wei)
        }
        "eth_call" => result(req, &erc20_balance(params)),
        other => panic!("unexpected method {other}"),
    }
}

fn erc20_balance(params: &Value) -> String {
    assert_eq!(params[1], "latest");
    let data = params[0]["data"].as_str().unwrap();
    let (selector, owner) = data.split_at(10);
    assert_eq!(selector, "0x70a08231");
    assert_eq!(owner.len(), 64);
    let owner = format!("0x{}", &owner[24..]);
    let units: u64 = match (
        params[0]["to"].as_str().unwrap(),
        owner == W1.to_lowercase(),
    ) {
        (USDC, true) => 1_234_567_891,
        (WBTC, false) => 100_000_000,
        _ => 0,
    };
    format!("0x{units:064x}")
}

fn dec(s: &str) -> BigDecimal {
    BigDecimal::from_str(s).unwrap()
}

#[test]
fn wallet_balances_reads_native_and_tokens_exactly() {
    let server = FakeServer::start(node);
    let wallets = client(&server.url()).wallet_balances().unwrap();

    assert_eq!(wallets.len(), 2);
    let (w1, w2) = (&wallets[0], &wallets[1]);
    assert_eq!((w1.address.as_str(), w1.block_number), (W1, 19_531_250));
    assert_eq!(
        (w1.native.symbol.as_str(), w1.native.contract.as_deref()),
        ("ETH", None)
    );
    assert_eq!(w1.native.amount, dec("1.5"));
    assert_eq!(w1.tokens[0].amount, dec("1234.567891"));
    assert_eq!(w1.tokens[0].contract.as_deref(), Some(USDC));
    assert_eq!(w1.tokens[1].amount, dec("0"));
    // 2^255 wei: far beyond u128 and f64 precision.
    assert_eq!(
        w2.native.amount.to_string(),
        "57896044618658097711785492504343953926634992332820282019728.792003956564819968"
    );
    assert_eq!(
        w2.native.raw.to_string(),
        "57896044618658097711785492504343953926634992332820282019728792003956564819968"
    );
    assert_eq!(
        (w2.tokens[1].symbol.as_str(), &w2.tokens[1].amount),
        ("WBTC", &dec("1"))
    );
    // 1 blockNumber + 2 wallets × (1 balance + 2 tokens).
    assert_eq!(server.requests().len(), 7);
}

#[test]
fn json_rpc_errors_name_code_and_message() {
    let server = FakeServer::start(|req, _| {
        let id = req.json()["id"].clone();
        Reply::json(
            200,
            json!({"jsonrpc":"2.0","id":id,"error":{"code":-32005,"message":"daily request count exceeded, request rate limited"}}).to_string(),
        )
    });
    let err = client(&server.url()).wallet_balances().unwrap_err();
    match &err {
        SyncError::JsonRpc {
            method,
            code,
            message,
        } => {
            assert_eq!((method.as_str(), *code), ("eth_blockNumber", -32005));
            assert!(message.contains("rate limited"));
        }
        other => panic!("expected JsonRpc, got {other:?}"),
    }
    assert_eq!(err.to_string(), "evm: JSON-RPC error -32005 from eth_blockNumber: daily request count exceeded, request rate limited");
    assert_error_redacted(&err, &[API_KEY]);
}

#[test]
fn a_contract_that_returns_no_data_is_an_error() {
    let server = FakeServer::start(|req, _| match req.json()["method"].as_str() {
        Some("eth_call") => result(req, "0x"),
        _ => result(req, "0x1"),
    });
    let err = client(&server.url()).wallet_balances().unwrap_err();
    assert!(err.to_string().contains("USDC"), "{err}");
    assert!(err.to_string().contains("returned no data"), "{err}");
}

#[test]
fn the_rpc_url_api_key_never_leaks() {
    let server = FakeServer::scripted(vec![Reply::json(401, format!("bad key {API_KEY}"))]);
    let c = client(&server.url());
    let err = c.wallet_balances().unwrap_err();
    assert_eq!(err.status(), Some(401));
    assert!(err.to_string().contains("check EVM_RPC_URL"), "{err}");
    assert!(err.to_string().contains("/***"), "{err}");
    assert_error_redacted(&err, &[API_KEY]);
    assert_redacted(&c, None, &[API_KEY]);
    assert_redacted(c.config(), None, &[API_KEY]);

    let hang = FakeServer::start(|_, _| Reply::Hang);
    let mut config = client(&hang.url()).config().clone();
    config.http.timeout = std::time::Duration::from_millis(200);
    let err = EvmClient::new(config).unwrap().block_number().unwrap_err();
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
    assert_error_redacted(&err, &[API_KEY]);
}

#[test]
fn from_env_parses_wallets_and_tokens() {
    assert!(EvmConfig::from_env(env_of(&[])).is_none());
    let rpc = format!("https://eth.example/v2/{API_KEY}");

    let no_wallets = env_of(&[("EVM_RPC_URL", &rpc)]);
    let err = EvmConfig::try_from_env(&no_wallets).unwrap_err();
    assert!(
        matches!(
            err,
            SyncError::Config {
                var: "EVM_WALLETS",
                ..
            }
        ),
        "{err:?}"
    );

    let bad_token = env_of(&[
        ("EVM_RPC_URL", &rpc),
        ("EVM_WALLETS", W1),
        ("EVM_TOKENS", "USDC:0x12:6"),
    ]);
    let err = EvmConfig::try_from_env(&bad_token).unwrap_err();
    assert!(
        matches!(
            err,
            SyncError::Config {
                var: "EVM_TOKENS",
                ..
            }
        ),
        "{err:?}"
    );
    assert_error_redacted(&err, &[API_KEY]);
    assert!(EvmConfig::from_env(&bad_token).is_none());

    let tokens = format!("USDC:{USDC}:6, WBTC:{WBTC}:8");
    let wallets = format!("{W1}, {W2},");
    let config = EvmConfig::from_env(env_of(&[
        ("EVM_RPC_URL", &rpc),
        ("EVM_WALLETS", &wallets),
        ("EVM_TOKENS", &tokens),
    ]))
    .unwrap();
    assert_eq!(config.wallets, [W1, W2]);
    assert_eq!(
        config.tokens[1],
        EvmToken {
            symbol: "WBTC".into(),
            contract: WBTC.into(),
            decimals: 8
        }
    );
    assert_eq!(config.rpc_url.expose(), rpc);
    assert_redacted(&config, None, &[API_KEY]);
}
