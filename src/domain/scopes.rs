//! What an API key may do: its scopes. A key holds a set of them; every API route needs one, and a
//! key without it is refused (403 `insufficient_scope`) whatever else it may do. Stored as the
//! scope names separated by spaces (as OAuth writes them).

use std::fmt;

macro_rules! scopes {
    ($($(#[$doc:meta])* $variant:ident = $name:literal,)*) => {
        /// One thing an API key may be allowed to do.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Scope {
            $($(#[$doc])* $variant,)*
        }

        impl Scope {
            /// Every scope, in the order lists show them.
            pub const ALL: &'static [Scope] = &[$(Self::$variant),*];

            /// The scope's name as keys, the CLI and the API write it.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $name,)*
                }
            }
        }
    };
}

scopes! {
    /// The consent check (single and bulk) and the event feed.
    ConsentsRead = "consents:read",
    /// A person's record, their export, their external id, the rights desk's requests.
    SubjectsRead = "subjects:read",
    /// Changing a person's consents or external id; filing and working rights requests.
    SubjectsWrite = "subjects:write",
    /// Erasing a person.
    SubjectsErase = "subjects:erase",
    /// Submitting forms through the API as the integrator (vouching for the person).
    SubmissionsWrite = "submissions:write",
    /// Importing files and reading imports.
    Imports = "imports",
    /// Managing webhook endpoints and their deliveries.
    Webhooks = "webhooks",
}

impl Scope {
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|s| s.as_str() == raw)
    }

    const fn bit(self) -> u8 {
        1 << self as u8
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of scopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Scopes(u8);

/// A scope name that is none of [`Scope::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown scope `{0}`; the scopes are {list}", list = Scopes::all().to_text())]
pub struct UnknownScope(pub String);

impl Scopes {
    /// Every scope: what a key made without naming any may do (and keys made before scopes).
    pub fn all() -> Self {
        Self::of(Scope::ALL)
    }

    pub fn of(scopes: &[Scope]) -> Self {
        Self(scopes.iter().fold(0, |bits, s| bits | s.bit()))
    }

    pub fn contains(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn is_all(self) -> bool {
        self == Self::all()
    }

    /// The scopes held, in [`Scope::ALL`]'s order.
    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL.iter().copied().filter(move |s| self.contains(*s))
    }

    /// Names separated by spaces or commas; an unknown name is refused, repeats are one.
    pub fn parse(raw: &str) -> Result<Self, UnknownScope> {
        raw.split([' ', ',']).filter(|s| !s.is_empty()).try_fold(Self::default(), |set, name| {
            Scope::parse(name).map(|s| Self(set.0 | s.bit())).ok_or_else(|| UnknownScope(name.to_owned()))
        })
    }

    /// The stored form: names separated by single spaces.
    pub fn to_text(self) -> String {
        self.iter().map(Scope::as_str).collect::<Vec<_>>().join(" ")
    }

    /// What is stored, read back; a stored name this version does not know gives nothing.
    pub fn from_stored(stored: &str) -> Self {
        Self::of(&stored.split(' ').filter_map(Scope::parse).collect::<Vec<_>>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scope_reads_back_as_itself() {
        for s in Scope::ALL {
            assert_eq!(Scope::parse(s.as_str()), Some(*s));
            assert!(Scopes::of(&[*s]).contains(*s));
        }
        assert_eq!(Scopes::from_stored(&Scopes::all().to_text()), Scopes::all());
    }

    #[test]
    fn lists_parse_with_spaces_or_commas_and_refuse_unknown_names() {
        let set = Scopes::parse("consents:read, subjects:erase consents:read").unwrap();
        assert_eq!(set.to_text(), "consents:read subjects:erase");
        assert!(set.contains(Scope::SubjectsErase) && !set.contains(Scope::SubjectsRead));
        assert_eq!(Scopes::parse("consents:write"), Err(UnknownScope("consents:write".into())));
        assert!(Scopes::parse("").unwrap().is_empty());
    }

    #[test]
    fn an_unknown_stored_name_grants_nothing() {
        assert_eq!(Scopes::from_stored("consents:read admin"), Scopes::of(&[Scope::ConsentsRead]));
    }
}
