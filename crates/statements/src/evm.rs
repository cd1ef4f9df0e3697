//! EVM wallet balances, as recorded from JSON-RPC answers.
//!
//! # Document, as accepted
//!
//! ```json
//! {"chain": "ethereum", "wallet": "0x…40 hex…", "block": "0x12a05f2",
//!  "native": {"symbol": "ETH", "decimals": 18, "result": "0x…"},
//!  "tokens": [{"symbol": "USDC", "contract": "0x…", "decimals": 6, "result": "0x…"}]}
//! ```
//!
//! `native.result` is the `eth_getBalance` result (a hex quantity) and each
//! token's `result` the `eth_call` result of `balanceOf(wallet)` (a 32-byte
//! ABI word). An entry may carry the JSON-RPC `error` object instead of
//! `result`; the document is then refused with that error. `block` (hex) and
//! `tokens` are optional. Addresses are returned lowercased; EIP-55 checksums
//! are not verified (that needs Keccak, which this crate does not carry).
//! `decimals` must be at most 255, as ERC-20 declares it a `uint8`.

use bigdecimal::BigDecimal;
use num_bigint::{BigInt, BigUint};
use serde::{Deserialize, Serialize};

use crate::error::{quote, StatementError};
use crate::json_doc::JsonSpec;

const SPEC: JsonSpec = JsonSpec {
    format: "EVM balances JSON",
    hint: "record the wallet's JSON-RPC balances again",
};

/// `balanceOf(address)`'s selector: the first 4 bytes of its Keccak hash.
const BALANCE_OF_SELECTOR: &str = "70a08231";

/// One asset balance of one wallet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EvmBalance {
    pub chain: String,
    /// Lowercase `0x` address.
    pub wallet: String,
    pub symbol: String,
    /// Lowercase token contract; `None` for the chain's native coin.
    pub contract: Option<String>,
    pub decimals: u32,
    /// In whole units, with exactly `decimals` places.
    pub balance: BigDecimal,
    /// The block the balances were read at, if recorded.
    pub block: Option<u64>,
}

impl EvmBalance {
    /// `evm:{chain}:{wallet}:{contract or "native"}`, lowercase.
    pub fn natural_key(&self) -> String {
        let asset = self.contract.as_deref().unwrap_or("native");
        format!("evm:{}:{}:{asset}", self.chain.to_lowercase(), self.wallet)
    }
}

/// Converts a JSON-RPC hex quantity (`eth_getBalance`, up to 256 bits) or a
/// 32-byte ABI `uint256` (`eth_call` of `balanceOf`) exactly into units with
/// `decimals` places: `("0x1", 18)` is `0.000000000000000001`.
pub fn hex_quantity_to_decimal(hex: &str, decimals: u32) -> Result<BigDecimal, StatementError> {
    let units = hex_to_uint(hex).map_err(|problem| StatementError::Hex {
        input: quote(hex),
        problem,
    })?;
    Ok(BigDecimal::new(BigInt::from(units), i64::from(decimals)))
}

/// The `data` of an `eth_call` of `balanceOf(owner)`: the selector and the
/// address left-padded to 32 bytes.
pub fn balance_of_call_data(owner: &str) -> Result<String, StatementError> {
    let owner = address(owner).map_err(|problem| StatementError::Address {
        input: quote(owner),
        problem,
    })?;
    Ok(format!("0x{BALANCE_OF_SELECTOR}{:0>64}", &owner[2..]))
}

/// Reads a wallet balances document; refuses it at its first problem.
pub fn parse_evm_balances(json: &[u8]) -> Result<Vec<EvmBalance>, StatementError> {
    let doc: RawDoc = SPEC.parse(json)?;
    let chain = doc.chain.trim().to_owned();
    if chain.is_empty() {
        return Err(SPEC.error("$.chain", "is empty".into()));
    }
    let wallet = SPEC.convert(
        "$.wallet",
        &doc.wallet,
        ok_address,
        "an address (0x + 40 hex)",
    )?;
    let block = match doc.block.as_deref() {
        None => None,
        Some(hex) => Some(block_number(hex).map_err(|p| SPEC.error("$.block", p))?),
    };
    let owner = Owner {
        chain,
        wallet,
        block,
    };
    let mut balances = vec![owner.balance("$.native", doc.native, false)?];
    for (i, token) in doc.tokens.into_iter().enumerate() {
        balances.push(owner.balance(&format!("$.tokens[{i}]"), token, true)?);
    }
    Ok(balances)
}

/// Hex digits after `0x` as an unsigned integer of at most 256 bits (a JSON-RPC quantity or
/// an ABI uint256); the error says what is wrong with the text.
pub fn hex_to_uint(hex: &str) -> Result<BigUint, String> {
    let Some(digits) = hex.strip_prefix("0x").or_else(|| hex.strip_prefix("0X")) else {
        return Err("does not start with 0x".into());
    };
    if digits.is_empty() {
        // What eth_call returns when the address holds no contract code.
        return Err("holds no digits (an eth_call to an address without code answers 0x)".into());
    }
    if let Some(bad) = digits.chars().find(|c| !c.is_ascii_hexdigit()) {
        return Err(format!("holds {bad:?}, which is not a hex digit"));
    }
    if digits.len() > 64 {
        return Err(format!(
            "has {} hex digits, more than 256 bits",
            digits.len()
        ));
    }
    BigUint::parse_bytes(digits.as_bytes(), 16).ok_or_else(|| "is not hexadecimal".into())
}

fn block_number(hex: &str) -> Result<u64, String> {
    let number = hex_to_uint(hex)?;
    u64::try_from(number).map_err(|_| "is not a block number (over 64 bits)".into())
}

/// Validates `0x` + 40 hex digits and lowercases it.
fn address(text: &str) -> Result<String, String> {
    let digits = text
        .strip_prefix("0x")
        .ok_or_else(|| "does not start with 0x".to_owned())?;
    let count = digits.chars().count();
    if count != 40 {
        return Err(format!("has {count} characters after 0x, not 40"));
    }
    if let Some(bad) = digits.chars().find(|c| !c.is_ascii_hexdigit()) {
        return Err(format!("holds {bad:?}, which is not a hex digit"));
    }
    Ok(text.to_ascii_lowercase())
}

fn ok_address(text: &str) -> Option<String> {
    address(text).ok()
}

#[derive(Deserialize)]
struct RawDoc {
    chain: String,
    wallet: String,
    #[serde(default)]
    block: Option<String>,
    native: RawEntry,
    #[serde(default)]
    tokens: Vec<RawEntry>,
}

#[derive(Deserialize)]
struct RawEntry {
    symbol: String,
    #[serde(default)]
    contract: Option<String>,
    decimals: u32,
    #[serde(default)]
    result: Option<String>,
    #[serde(default)]
    error: Option<RpcError>,
}

/// A JSON-RPC error object recorded instead of a result.
#[derive(Deserialize)]
struct RpcError {
    code: i64,
    message: String,
}

/// What all balances of one document share.
struct Owner {
    chain: String,
    wallet: String,
    block: Option<u64>,
}

impl Owner {
    fn balance(
        &self,
        at: &str,
        entry: RawEntry,
        token: bool,
    ) -> Result<EvmBalance, StatementError> {
        let contract = match (entry.contract.as_deref(), token) {
            (Some(c), true) => {
                Some(address(c).map_err(|p| SPEC.error(format!("{at}.contract"), p))?)
            }
            (None, true) => return Err(SPEC.error(format!("{at}.contract"), "is missing".into())),
            (Some(_), false) => {
                let problem =
                    "is set: the native coin has no contract; list tokens under tokens".into();
                return Err(SPEC.error(format!("{at}.contract"), problem));
            }
            (None, false) => None,
        };
        if entry.decimals > 255 {
            let problem = format!("is {}, more than ERC-20's uint8 allows", entry.decimals);
            return Err(SPEC.error(format!("{at}.decimals"), problem));
        }
        let result = match (entry.result, entry.error) {
            (_, Some(err)) => {
                let problem = format!("JSON-RPC error {}: {}", err.code, quote(&err.message));
                return Err(SPEC.error(format!("{at}.error"), problem));
            }
            (Some(result), None) => result,
            (None, None) => return Err(SPEC.error(format!("{at}.result"), "is missing".into())),
        };
        let units = hex_to_uint(&result)
            .map_err(|p| SPEC.error(format!("{at}.result"), format!("{} {p}", quote(&result))))?;
        Ok(EvmBalance {
            chain: self.chain.clone(),
            wallet: self.wallet.clone(),
            symbol: entry.symbol,
            contract,
            decimals: entry.decimals,
            balance: BigDecimal::new(BigInt::from(units), i64::from(entry.decimals)),
            block: self.block,
        })
    }
}
