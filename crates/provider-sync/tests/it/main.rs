//! Provider clients against local fake servers speaking each documented format.

mod common;
mod evm;
mod ibkr;
mod okx;
mod transport;
mod wise;

use common::env_of;
use provider_sync::ProviderConfigs;

#[test]
fn provider_configs_enable_only_what_is_configured() {
    let none = ProviderConfigs::from_env(env_of(&[]));
    assert!(none.ibkr.is_none() && none.wise.is_none() && none.okx.is_none() && none.evm.is_none());

    let some = ProviderConfigs::from_env(env_of(&[
        ("WISE_API_TOKEN", "wise-TOKEN-1"),
        ("OKX_API_KEY", "okx-KEY-1"), // incomplete: no secret/passphrase
        ("EVM_RPC_URL", "https://eth.example/v3/KEYKEYKEYKEY"),
        ("EVM_WALLETS", "0x1111111111111111111111111111111111111111"),
    ]));
    assert!(some.wise.is_some() && some.evm.is_some());
    assert!(some.ibkr.is_none() && some.okx.is_none());
    common::assert_redacted(&some, None, &["wise-TOKEN-1", "okx-KEY-1", "KEYKEYKEYKEY"]);
}
