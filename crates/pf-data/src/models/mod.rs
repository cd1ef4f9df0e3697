//! Every table of the service, declared once each with [`resource!`](crate::resource).

mod funds;
mod ibkr;
mod imports;
mod okx;
mod snapshots;
mod validate;
mod web3;
mod wise;

pub use funds::*;
pub use ibkr::*;
pub use imports::*;
pub use okx::*;
pub use snapshots::*;
pub use web3::*;
pub use wise::*;

use crate::resource::ResourceVisitor;

/// Tables whose rows the migrations themselves insert: their rows are not user data.
pub const SEEDED_TABLES: &[&str] = &["system_config"];

/// Visits every resource, parents before children (the order imports must follow).
pub fn visit_all<V: ResourceVisitor>(v: &mut V) {
    v.visit::<SystemConfig>();
    v.visit::<FundInfo>();
    v.visit::<FundDividend>();
    v.visit::<AssetPosition>();
    v.visit::<DcaPlan>();
    v.visit::<UserOperation>();
    v.visit::<OkxBalance>();
    v.visit::<OkxTransaction>();
    v.visit::<OkxPosition>();
    v.visit::<OkxMarketData>();
    v.visit::<OkxAccountOverview>();
    v.visit::<IbkrAccount>();
    v.visit::<IbkrBalance>();
    v.visit::<IbkrPosition>();
    v.visit::<IbkrSyncLog>();
    v.visit::<WiseTransaction>();
    v.visit::<WiseBalance>();
    v.visit::<Web3Balance>();
    v.visit::<Web3Token>();
    v.visit::<Web3Transaction>();
    v.visit::<AssetSnapshot>();
    v.visit::<ExchangeRateSnapshot>();
    v.visit::<ImportRun>();
}

/// The table names in [`visit_all`] order.
pub fn table_names() -> Vec<&'static str> {
    struct Names(Vec<&'static str>);
    impl ResourceVisitor for Names {
        fn visit<R: crate::resource::Resource>(&mut self) {
            self.0.push(R::TABLE);
        }
    }
    let mut names = Names(Vec::new());
    visit_all(&mut names);
    names.0
}
