//! Serde for fixed-size byte arrays as unpadded base64url text, so stored
//! records stay readable JSON and arrays longer than 32 bytes serialize at all.

use serde::{Deserialize, Deserializer, Serializer};

use crate::error::Field;
use crate::ids::{decode_fixed, encode};

pub(crate) fn serialize<S: Serializer, const N: usize>(
    bytes: &[u8; N],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&encode(bytes))
}

pub(crate) fn deserialize<'de, D: Deserializer<'de>, const N: usize>(
    deserializer: D,
) -> Result<[u8; N], D::Error> {
    let text = String::deserialize(deserializer)?;
    decode_fixed::<N>(&text, Field::StoredValue).map_err(serde::de::Error::custom)
}
