/// A binding's priority, 1 (preferred) to 10.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Priority(u8);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be an integer from {min} to {max}", min = Priority::MIN, max = Priority::MAX)]
pub struct PriorityError;

impl Priority {
    pub const MIN: u8 = 1;
    pub const MAX: u8 = 10;

    pub fn parse(raw: i64) -> Result<Self, PriorityError> {
        u8::try_from(raw).ok().filter(|p| (Self::MIN..=Self::MAX).contains(p)).map(Self).ok_or(PriorityError)
    }

    /// The nearest valid priority, for values the existing programs stored without our rules.
    pub fn saturating(raw: i64) -> Self {
        Self(raw.clamp(Self::MIN.into(), Self::MAX.into()) as u8)
    }

    pub fn value(self) -> u8 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_one_to_ten() {
        assert_eq!(Priority::parse(1).map(Priority::value), Ok(1));
        assert_eq!(Priority::parse(10).map(Priority::value), Ok(10));
        assert_eq!(Priority::parse(0), Err(PriorityError));
        assert_eq!(Priority::parse(11), Err(PriorityError));
        assert_eq!(Priority::parse(-1), Err(PriorityError));
        assert_eq!(Priority::parse(i64::from(u8::MAX) + 2), Err(PriorityError));
    }

    #[test]
    fn saturating_clamps_into_range() {
        assert_eq!(Priority::saturating(0).value(), 1);
        assert_eq!(Priority::saturating(4).value(), 4);
        assert_eq!(Priority::saturating(i64::MAX).value(), 10);
    }

    proptest! {
        #[test]
        fn parse_accepts_exactly_one_to_ten(raw in any::<i64>()) {
            prop_assert_eq!(Priority::parse(raw).is_ok(), (1..=10).contains(&raw));
        }
    }
}
