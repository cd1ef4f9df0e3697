//! Exact division, rounded once.
//!
//! `BigDecimal`'s `/` stops at a fixed number of significant digits (100 by default, set at
//! build time) and rounds there; rounding that result again to 2 or 8 places would round
//! twice. `div_round` divides the integer digits exactly and applies the rounding mode to
//! the true remainder, so the answer is the correctly rounded quotient whatever its length.

use std::cmp::Ordering;

use bigdecimal::num_bigint::{BigInt, Sign};
use bigdecimal::{BigDecimal, RoundingMode, Zero};

/// `num / den` rounded to `scale` decimal places with `mode`. `None` when `den` is zero or
/// the digits involved would need a power of ten beyond `u32` (absurd inputs only).
pub(crate) fn div_round(
    num: &BigDecimal,
    den: &BigDecimal,
    scale: i64,
    mode: RoundingMode,
) -> Option<BigDecimal> {
    if den.is_zero() {
        return None;
    }
    let (a, sa) = num.as_bigint_and_scale();
    let (b, sb) = den.as_bigint_and_scale();
    // num/den * 10^scale = a/b * 10^(sb - sa + scale): move the power of ten onto whichever
    // side keeps both operands integers.
    let shift = sb.checked_sub(sa)?.checked_add(scale)?;
    let ten = |k: i64| u32::try_from(k).ok().map(|k| BigInt::from(10u8).pow(k));
    let (n, d) = if shift >= 0 {
        (a.as_ref() * ten(shift)?, b.into_owned())
    } else {
        (a.into_owned(), b.as_ref() * ten(-shift)?)
    };
    Some(BigDecimal::new(div_int(&n, &d, mode), scale))
}

/// Integer `n / d` rounded with `mode`; `d` must not be zero.
fn div_int(n: &BigInt, d: &BigInt, mode: RoundingMode) -> BigInt {
    let negative = (n.sign() == Sign::Minus) != (d.sign() == Sign::Minus);
    let (n, d) = (n.magnitude(), d.magnitude());
    let (q, r) = (n / d, n % d);
    let away = if r.is_zero() {
        false
    } else {
        let half = (&r * 2u8).cmp(d);
        match mode {
            RoundingMode::Up => true,
            RoundingMode::Down => false,
            RoundingMode::Ceiling => !negative,
            RoundingMode::Floor => negative,
            RoundingMode::HalfUp => half != Ordering::Less,
            RoundingMode::HalfDown => half == Ordering::Greater,
            RoundingMode::HalfEven => {
                half == Ordering::Greater || (half == Ordering::Equal && q.bit(0))
            }
        }
    };
    let q = if away { q + 1u8 } else { q };
    let sign = if q.is_zero() {
        Sign::NoSign
    } else if negative {
        Sign::Minus
    } else {
        Sign::Plus
    };
    BigInt::from_biguint(sign, q)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> BigDecimal {
        s.parse().unwrap()
    }

    fn check(num: &str, den: &str, scale: i64, mode: RoundingMode, want: &str) {
        let got = div_round(&d(num), &d(den), scale, mode).unwrap();
        assert_eq!(got.to_string(), want, "{num} / {den} at {scale} {mode:?}");
    }

    #[test]
    fn rounds_the_true_quotient_once() {
        check("2", "3", 4, RoundingMode::Down, "0.6666");
        check("2", "3", 4, RoundingMode::HalfEven, "0.6667");
        check("-2", "3", 4, RoundingMode::Down, "-0.6666");
        check("-2", "3", 4, RoundingMode::Floor, "-0.6667");
        check("0.125", "1", 2, RoundingMode::HalfEven, "0.12");
        check("0.135", "1", 2, RoundingMode::HalfEven, "0.14");
        check("0.125", "1", 2, RoundingMode::HalfUp, "0.13");
        check("-0.125", "1", 2, RoundingMode::HalfUp, "-0.13");
        check("0.125", "1", 2, RoundingMode::HalfDown, "0.12");
        check("1E+3", "0.5", 1, RoundingMode::Down, "2000.0");
        check("1", "8", 2, RoundingMode::Up, "0.13");
        check("1", "8", 2, RoundingMode::Ceiling, "0.13");
        check("-0.001", "1", 2, RoundingMode::Down, "0"); // no negative zero
    }

    #[test]
    fn just_below_a_half_is_not_rounded_up() {
        // 0.004 followed by 120 nines: a division stopping at 100 significant digits would
        // round the tail up to 0.005 and then to 0.01; the exact remainder says 0.00.
        let num = format!("0.004{}", "9".repeat(120));
        check(&num, "1", 2, RoundingMode::HalfUp, "0"); // BigDecimal prints any zero as 0
    }

    #[test]
    fn zero_divisor_is_refused() {
        assert_eq!(div_round(&d("1"), &d("0.000"), 2, RoundingMode::Down), None);
    }
}
