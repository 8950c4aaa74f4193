//! Secure randomness from the operating system (or `crypto.getRandomValues`
//! in the browser).

use crate::{Error, Result};

/// Fills `dest` with random bytes from the system generator.
pub(crate) fn fill(dest: &mut [u8]) -> Result<()> {
    getrandom::fill(dest).map_err(|_| Error::Random)
}

/// Returns `N` random bytes.
pub(crate) fn bytes<const N: usize>() -> Result<[u8; N]> {
    let mut out = [0u8; N];
    fill(&mut out)?;
    Ok(out)
}
