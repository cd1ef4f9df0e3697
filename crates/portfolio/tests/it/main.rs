//! The rules checked on worked examples whose expected figures were computed independently.

mod dca;
mod networth;
mod valuation;
