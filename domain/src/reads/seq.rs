use crate::values::InvalidValue;

/// A place in a room's sequence to mark read up to: 0 (nothing read) or more.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadSeq(usize);

impl ReadSeq {
    pub fn parse(seq: i64) -> Result<Self, InvalidValue> {
        usize::try_from(seq)
            .map(Self)
            .map_err(|_| InvalidValue(format!("seq must be 0 or more, not {seq}")))
    }

    pub fn get(self) -> usize {
        self.0
    }
}
