//! EVM JSON-RPC 2.0: block number, native balance and ERC-20 `balanceOf`,
//! converted from uint256 hex to exact decimals.
//!
//! Hosted RPC URLs usually embed an API key, so the URL is a [`Secret`] and
//! only its origin (`https://host/***`) ever reaches logs and errors.

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};

use bigdecimal::num_bigint::{BigInt, BigUint};
use bigdecimal::BigDecimal;
use serde::Deserialize;
use serde_json::{json, Value};
use url::Url;

use crate::env::{or_disable, required, var};
use crate::http::{build_url, standard_hint, Call, HttpSettings, Method, Response, Transport};
use crate::redact::{origin_only, Secret};
use crate::SyncError;

pub const RPC_URL_VAR: &str = "EVM_RPC_URL";
pub const WALLETS_VAR: &str = "EVM_WALLETS";
pub const TOKENS_VAR: &str = "EVM_TOKENS";

const PROVIDER: &str = "evm";

/// An ERC-20 token to read, from `SYMBOL:0xcontract:decimals`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvmToken {
    pub symbol: String,
    pub contract: String,
    pub decimals: u32,
}

impl FromStr for EvmToken {
    type Err = String;

    fn from_str(spec: &str) -> Result<Self, String> {
        let parts: Vec<&str> = spec.trim().split(':').map(str::trim).collect();
        let [symbol, contract, decimals] = parts[..] else {
            return Err(format!("`{spec}` is not SYMBOL:0xcontract:decimals"));
        };
        if symbol.is_empty() {
            return Err(format!("`{spec}` has an empty symbol"));
        }
        let decimals: u32 = decimals
            .parse()
            .ok()
            .filter(|d| *d <= 255)
            .ok_or_else(|| format!("`{spec}` has invalid decimals (0..=255)"))?;
        Ok(EvmToken {
            symbol: symbol.to_owned(),
            contract: check_address(contract)?,
            decimals,
        })
    }
}

#[derive(Clone)]
pub struct EvmConfig {
    /// May embed an API key: never logged.
    pub rpc_url: Secret,
    pub wallets: Vec<String>,
    pub tokens: Vec<EvmToken>,
    pub native_symbol: String,
    pub native_decimals: u32,
    pub http: HttpSettings,
}

impl fmt::Debug for EvmConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rpc =
            Url::parse(self.rpc_url.expose()).map_or_else(|_| "***".into(), |u| origin_only(&u));
        f.debug_struct("EvmConfig")
            .field("rpc_url", &rpc)
            .field("wallets", &self.wallets)
            .field("tokens", &self.tokens)
            .field("native_symbol", &self.native_symbol)
            .field("native_decimals", &self.native_decimals)
            .field("http", &self.http)
            .finish()
    }
}

impl EvmConfig {
    /// Native coin `ETH` with 18 decimals, no tokens.
    pub fn new(rpc_url: impl Into<Secret>, wallets: Vec<String>) -> Self {
        EvmConfig {
            rpc_url: rpc_url.into(),
            wallets,
            tokens: Vec::new(),
            native_symbol: "ETH".to_owned(),
            native_decimals: 18,
            http: HttpSettings::default(),
        }
    }

    /// `None` (sync off) when `EVM_RPC_URL` is unset/blank or the rest is invalid.
    pub fn from_env(env: impl Fn(&str) -> Option<String>) -> Option<Self> {
        or_disable(PROVIDER, Self::try_from_env(env))
    }

    /// `Ok(None)` when `EVM_RPC_URL` is unset/blank; an error when
    /// `EVM_WALLETS` is missing or any wallet or `EVM_TOKENS` entry is malformed.
    pub fn try_from_env(env: impl Fn(&str) -> Option<String>) -> Result<Option<Self>, SyncError> {
        let Some(rpc_url) = var(&env, RPC_URL_VAR) else {
            return Ok(None);
        };
        let bad = |var: &'static str| move |problem: String| SyncError::Config { var, problem };
        let wallets = split_list(&required(&env, WALLETS_VAR, RPC_URL_VAR)?)
            .map(check_address)
            .collect::<Result<Vec<_>, _>>()
            .map_err(bad(WALLETS_VAR))?;
        let tokens = split_list(&var(&env, TOKENS_VAR).unwrap_or_default())
            .map(EvmToken::from_str)
            .collect::<Result<Vec<_>, _>>()
            .map_err(bad(TOKENS_VAR))?;
        Ok(Some(EvmConfig {
            tokens,
            ..Self::new(rpc_url, wallets)
        }))
    }
}

/// One asset held by a wallet: base units and the exact decimal amount.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Balance {
    pub symbol: String,
    /// `None` for the chain's native coin.
    pub contract: Option<String>,
    pub decimals: u32,
    pub raw: BigUint,
    pub amount: BigDecimal,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WalletBalances {
    pub address: String,
    /// `eth_blockNumber` just before the balances were read at `latest`.
    pub block_number: u64,
    pub native: Balance,
    pub tokens: Vec<Balance>,
}

pub struct EvmClient {
    config: EvmConfig,
    url: Url,
    origin: String,
    transport: Transport,
    next_id: AtomicU64,
}

impl fmt::Debug for EvmClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EvmClient")
            .field("config", &self.config)
            .field("url", &self.origin)
            .field("transport", &self.transport)
            .finish_non_exhaustive()
    }
}

impl EvmClient {
    pub fn new(config: EvmConfig) -> Result<Self, SyncError> {
        let url = build_url(config.rpc_url.expose(), "", &[], RPC_URL_VAR)?;
        for wallet in &config.wallets {
            check_address(wallet).map_err(|problem| SyncError::Config {
                var: WALLETS_VAR,
                problem,
            })?;
        }
        let transport = Transport::new(PROVIDER, &config.http, url_secrets(&url), http_hint);
        Ok(EvmClient {
            origin: origin_only(&url),
            url,
            config,
            transport,
            next_id: AtomicU64::new(1),
        })
    }

    pub fn config(&self) -> &EvmConfig {
        &self.config
    }

    /// `eth_blockNumber`.
    pub fn block_number(&self) -> Result<u64, SyncError> {
        let method = "eth_blockNumber";
        let hex = self.rpc(method, json!([]))?;
        let n =
            hex_quantity(&hex).ok_or_else(|| self.decode(method, format!("bad quantity {hex}")))?;
        u64::try_from(n).map_err(|_| self.decode(method, "block number exceeds u64".into()))
    }

    /// `eth_getBalance [address, "latest"]`, in wei.
    pub fn native_balance(&self, address: &str) -> Result<BigUint, SyncError> {
        let method = "eth_getBalance";
        let hex = self.rpc(method, json!([address, "latest"]))?;
        hex_quantity(&hex).ok_or_else(|| self.decode(method, format!("bad quantity {hex}")))
    }

    /// `eth_call` of `balanceOf(owner)` on `token.contract`, in base units.
    pub fn token_balance(&self, token: &EvmToken, owner: &str) -> Result<BigUint, SyncError> {
        let method = "eth_call";
        let data = balance_of_call_data(owner).map_err(|p| self.decode(method, p))?;
        let hex = self.rpc(
            method,
            json!([{ "to": token.contract, "data": data }, "latest"]),
        )?;
        if hex.trim_start_matches("0x").is_empty() {
            return Err(self.decode(
                method,
                format!(
                    "{} ({}) returned no data; check the contract address for this chain",
                    token.symbol, token.contract
                ),
            ));
        }
        hex_quantity(&hex).ok_or_else(|| self.decode(method, format!("bad uint256 {hex}")))
    }

    /// Native balance plus every configured token, for every configured wallet.
    pub fn wallet_balances(&self) -> Result<Vec<WalletBalances>, SyncError> {
        let block_number = self.block_number()?;
        let native = |address: &str| -> Result<Balance, SyncError> {
            let raw = self.native_balance(address)?;
            Ok(balance(
                &self.config.native_symbol,
                None,
                self.config.native_decimals,
                raw,
            ))
        };
        let token = |t: &EvmToken, address: &str| -> Result<Balance, SyncError> {
            let raw = self.token_balance(t, address)?;
            Ok(balance(&t.symbol, Some(&t.contract), t.decimals, raw))
        };
        self.config
            .wallets
            .iter()
            .map(|address| {
                Ok(WalletBalances {
                    address: address.clone(),
                    block_number,
                    native: native(address)?,
                    tokens: self
                        .config
                        .tokens
                        .iter()
                        .map(|t| token(t, address))
                        .collect::<Result<_, _>>()?,
                })
            })
            .collect()
    }

    /// One JSON-RPC 2.0 call; returns the `result` string.
    fn rpc(&self, method: &str, params: Value) -> Result<String, SyncError> {
        #[derive(Deserialize)]
        struct RpcResponse {
            #[serde(default)]
            id: Value,
            result: Option<String>,
            error: Option<RpcError>,
        }
        #[derive(Deserialize)]
        struct RpcError {
            code: i64,
            #[serde(default)]
            message: String,
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let body =
            json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }).to_string();
        let shown = format!("{} {method}", self.origin);
        let headers = || vec![("Content-Type", "application/json".to_owned())];
        let call = Call {
            method: Method::Post,
            url: &self.url,
            shown: &shown,
            body: Some(body.as_bytes()),
            headers: &headers,
        };
        let response = self.transport.send(&call)?;
        let parsed: RpcResponse = serde_json::from_slice(&response.body)
            .map_err(|e| self.decode(method, e.to_string()))?;
        if let Some(error) = parsed.error {
            return Err(SyncError::JsonRpc {
                method: method.to_owned(),
                code: error.code,
                message: self.transport.safe_text(&error.message),
            });
        }
        if parsed.id != json!(id) {
            return Err(self.decode(
                method,
                format!("response id {} does not match request id {id}", parsed.id),
            ));
        }
        parsed
            .result
            .ok_or_else(|| self.decode(method, "neither result nor error".into()))
    }

    fn decode(&self, method: &str, detail: String) -> SyncError {
        SyncError::Decode {
            provider: PROVIDER,
            endpoint: format!("{} {method}", self.origin),
            detail,
        }
    }
}

fn balance(symbol: &str, contract: Option<&str>, decimals: u32, raw: BigUint) -> Balance {
    Balance {
        symbol: symbol.to_owned(),
        contract: contract.map(str::to_owned),
        decimals,
        amount: to_decimal(&raw, decimals),
        raw,
    }
}

/// `0x`-prefixed hex quantity → integer (`"0x0"` is zero; `"0x"` is `None`).
pub fn hex_quantity(hex: &str) -> Option<BigUint> {
    // The statement parser's rules: 0x, 1 to 64 hex digits.
    statements::evm::hex_to_uint(hex.trim()).ok()
}

/// Base units → exact amount: `raw / 10^decimals`, scale = `decimals`.
pub fn to_decimal(raw: &BigUint, decimals: u32) -> BigDecimal {
    BigDecimal::new(BigInt::from(raw.clone()), i64::from(decimals))
}

/// `0x70a08231` + the owner left-padded to 32 bytes.
pub fn balance_of_call_data(owner: &str) -> Result<String, String> {
    statements::balance_of_call_data(owner).map_err(|e| e.to_string())
}

/// `0x` + 40 hex digits (EIP-55 checksums are not verified).
fn check_address(address: &str) -> Result<String, String> {
    let address = address.trim();
    let hex = address
        .strip_prefix("0x")
        .or_else(|| address.strip_prefix("0X"));
    match hex {
        Some(h) if h.len() == 40 && h.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Ok(address.to_owned())
        }
        _ => Err(format!(
            "`{address}` is not a 0x-prefixed 20-byte hex address"
        )),
    }
}

fn split_list(list: &str) -> impl Iterator<Item = &str> {
    list.split(',').map(str::trim).filter(|s| !s.is_empty())
}

/// The whole URL, its path+query and any long path segment or password are
/// scrubbed from error text.
fn url_secrets(url: &Url) -> Vec<String> {
    let mut secrets = vec![url.as_str().to_owned()];
    let tail = &url[url::Position::BeforePath..];
    if tail.len() > 1 {
        secrets.push(tail.to_owned());
    }
    secrets.extend(
        url.path_segments()
            .into_iter()
            .flatten()
            .filter(|s| s.len() >= 8)
            .map(str::to_owned),
    );
    secrets.extend(url.password().map(str::to_owned));
    secrets
}

fn http_hint(response: &Response) -> String {
    standard_hint(response.status, "EVM_RPC_URL (its API key)", RPC_URL_VAR)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uint256_to_exact_decimal() {
        let max = hex_quantity(&format!("0x{}", "f".repeat(64))).unwrap();
        assert_eq!(
            to_decimal(&max, 18).to_string(),
            "115792089237316195423570985008687907853269984665640564039457.584007913129639935"
        );
        assert_eq!(
            to_decimal(&hex_quantity("0xde0b6b3a7640000").unwrap(), 18),
            BigDecimal::from(1)
        );
        assert_eq!(hex_quantity("0x0"), Some(BigUint::from(0u8)));
        assert_eq!(hex_quantity("0x"), None);
        assert_eq!(hex_quantity("12"), None);
    }

    #[test]
    fn balance_of_data_is_selector_plus_padded_owner() {
        let data = balance_of_call_data("0xAbCdEf0123456789aBcDeF0123456789AbCdEf01").unwrap();
        assert_eq!(
            data,
            "0x70a08231000000000000000000000000abcdef0123456789abcdef0123456789abcdef01"
        );
        assert_eq!(data.len(), 2 + 8 + 64);
    }

    #[test]
    fn token_specs_parse_and_reject() {
        let t: EvmToken = "USDC:0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48:6"
            .parse()
            .unwrap();
        assert_eq!((t.symbol.as_str(), t.decimals), ("USDC", 6));
        assert!("USDC:0xA0b8:6".parse::<EvmToken>().is_err());
        assert!("USDC:0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
            .parse::<EvmToken>()
            .is_err());
        assert!("USDC:0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48:x"
            .parse::<EvmToken>()
            .is_err());
    }

    #[test]
    fn url_secrets_cover_path_keys() {
        let url = Url::parse("https://eth.example/v3/0123456789abcdef?x=1").unwrap();
        let s = url_secrets(&url);
        assert!(s.contains(&"/v3/0123456789abcdef?x=1".to_owned()));
        assert!(s.contains(&"0123456789abcdef".to_owned()));
    }
}
