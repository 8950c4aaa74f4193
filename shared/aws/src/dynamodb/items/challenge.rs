//! Verification challenge items: `PK = C#<challenge id>`, `SK = CHALLENGE`,
//! TTL at the challenge's expiry. The body holds only the code's digest.

use kluis_core::ids::ChallengeId;
use kluis_core::ports::PortError;
use kluis_core::verification::VerificationChallenge;

use super::{Item, body, record};

const SK: &str = "CHALLENGE";
const KIND: &str = "challenge";

/// The key of a challenge's item.
pub fn key(id: ChallengeId) -> Item {
    super::key(format!("C#{id}"), SK)
}

/// The item of a challenge.
pub fn to_item(challenge: &VerificationChallenge) -> Result<Item, PortError> {
    record(
        format!("C#{}", challenge.id),
        SK,
        KIND,
        challenge,
        Some(challenge.expires_at),
    )
}

/// The challenge of an item read back.
pub fn from_item(item: &Item) -> Result<VerificationChallenge, PortError> {
    body(item, "challenge item")
}
