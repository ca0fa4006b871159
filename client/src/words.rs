//! The lower-case words that stand for the contract's enums on the command line and in JSON,
//! e.g. `in-custody` for `PERSON_STATUS_IN_CUSTODY`.
//!
//! One table per enum drives clap's parsing (with its list of allowed values), serde's JSON
//! names and the conversion to and from the protobuf numbers, so the three cannot drift.

use setu_proto::v1 as pb;

/// Declares a word enum mirroring a protobuf enum, without its `UNSPECIFIED` value.
macro_rules! word_enum {
    (
        $(#[$doc:meta])*
        $name:ident => $proto:ident {
            $($(#[$vdoc:meta])* $variant:ident = $pvariant:ident : $word:literal),+ $(,)?
        }
    ) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash,
            serde::Serialize, serde::Deserialize, clap::ValueEnum,
        )]
        pub enum $name {
            $(
                $(#[$vdoc])*
                #[serde(rename = $word)]
                #[value(name = $word)]
                $variant,
            )+
        }

        impl $name {
            /// Every value, in the contract's order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The protobuf number of this value.
            pub fn to_proto(self) -> i32 {
                match self {
                    $(Self::$variant => pb::$proto::$pvariant as i32,)+
                }
            }

            /// The value for a protobuf number; `None` for unspecified or unknown numbers.
            pub fn from_proto(value: i32) -> Option<Self> {
                match pb::$proto::try_from(value).ok()? {
                    $(pb::$proto::$pvariant => Some(Self::$variant),)+
                    #[allow(unreachable_patterns)]
                    _ => None,
                }
            }

            /// The word for this value, as typed on the command line.
            pub fn word(self) -> &'static str {
                match self {
                    $(Self::$variant => $word,)+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.word())
            }
        }
    };
}

word_enum! {
    /// A person's gender; `M` and `F` (either case) are accepted for male and female.
    Gender => Gender {
        #[value(alias = "m", alias = "M")]
        Male = Male: "male",
        #[value(alias = "f", alias = "F")]
        Female = Female: "female",
        Other = Other: "other",
    }
}

word_enum! {
    /// Where a person stands with the police.
    Status => PersonStatus {
        Active = Active: "active",
        Wanted = Wanted: "wanted",
        Absconding = Absconding: "absconding",
        Arrested = Arrested: "arrested",
        InCustody = InCustody: "in-custody",
        OnBail = OnBail: "on-bail",
        Convicted = Convicted: "convicted",
        Inactive = Inactive: "inactive",
    }
}

word_enum! {
    /// A caution for officers approaching the person.
    Warning => Warning {
        Armed = Armed: "armed",
        Violent = Violent: "violent",
        EscapeRisk = EscapeRisk: "escape-risk",
        SelfHarmRisk = SelfHarmRisk: "self-harm-risk",
    }
}

word_enum! {
    /// Who may receive a record or note.
    Handling => Handling {
        LocalOnly = LocalOnly: "local-only",
        Peers = Peers: "peers",
        Federation = Federation: "federation",
    }
}

word_enum! {
    /// A person's role in a case.
    CaseRole => CaseRole {
        Suspect = Suspect: "suspect",
        Accused = Accused: "accused",
        Convicted = Convicted: "convicted",
    }
}

word_enum! {
    /// The kind of crime an MO note describes.
    MoCategory => MoCategory {
        AtmRobbery = AtmRobbery: "atm-robbery",
        BankRobbery = BankRobbery: "bank-robbery",
        JewelleryShop = JewelleryShop: "jewellery-shop",
        PetrolPump = PetrolPump: "petrol-pump",
        HighwayRobbery = HighwayRobbery: "highway-robbery",
        ChainSnatching = ChainSnatching: "chain-snatching",
        VehicleTheft = VehicleTheft: "vehicle-theft",
        Burglary = Burglary: "burglary",
        CyberFraud = CyberFraud: "cyber-fraud",
        LiquorSmuggling = LiquorSmuggling: "liquor-smuggling",
        Extortion = Extortion: "extortion",
        Arms = Arms: "arms",
        Other = Other: "other",
    }
}

word_enum! {
    /// How urgent an alert is, which sets the targets' acknowledgement deadline.
    AlertPriority => AlertPriority {
        /// Acknowledge within 10 minutes.
        Flash = Flash: "flash",
        /// Acknowledge within 1 hour.
        Immediate = Immediate: "immediate",
        /// No acknowledgement deadline.
        Routine = Routine: "routine",
    }
}

word_enum! {
    /// What an alert is about.
    AlertCategory => AlertCategory {
        Robbery = Robbery: "robbery",
        WantedPerson = WantedPerson: "wanted-person",
        VehicleLookout = VehicleLookout: "vehicle-lookout",
        MissingPerson = MissingPerson: "missing-person",
        EscapedPrisoner = EscapedPrisoner: "escaped-prisoner",
        RumourOrCommunal = RumourOrCommunal: "rumour-or-communal",
        Other = Other: "other",
    }
}

word_enum! {
    /// Which kind of alert message: a new alert, an update or a cancellation.
    AlertKind => AlertKind {
        Alert = Alert: "alert",
        Update = Update: "update",
        Cancel = Cancel: "cancel",
    }
}

word_enum! {
    /// Where an alert stands.
    AlertState => AlertState {
        Open = Open: "open",
        Cancelled = Cancelled: "cancelled",
        Expired = Expired: "expired",
    }
}

/// The word for an optional enum value, or "-" when unspecified.
pub fn word_or_dash<T: std::fmt::Display>(value: Option<T>) -> String {
    value.map_or_else(|| "-".to_string(), |v| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum;

    #[test]
    fn every_word_round_trips_through_the_protobuf_number() {
        for status in Status::ALL {
            assert_eq!(Status::from_proto(status.to_proto()), Some(*status));
        }
        for category in MoCategory::ALL {
            assert_eq!(MoCategory::from_proto(category.to_proto()), Some(*category));
        }
        for priority in AlertPriority::ALL {
            assert_eq!(
                AlertPriority::from_proto(priority.to_proto()),
                Some(*priority)
            );
        }
        for category in AlertCategory::ALL {
            assert_eq!(
                AlertCategory::from_proto(category.to_proto()),
                Some(*category)
            );
        }
        for kind in AlertKind::ALL {
            assert_eq!(AlertKind::from_proto(kind.to_proto()), Some(*kind));
        }
        for state in AlertState::ALL {
            assert_eq!(AlertState::from_proto(state.to_proto()), Some(*state));
        }
        assert_eq!(AlertPriority::from_proto(0), None);
        assert_eq!(Status::from_proto(0), None);
        assert_eq!(Status::from_proto(99), None);
    }

    #[test]
    fn words_match_the_contract_names() {
        assert_eq!(
            Status::InCustody.to_proto(),
            pb::PersonStatus::InCustody as i32
        );
        assert_eq!(Warning::SelfHarmRisk.word(), "self-harm-risk");
        assert_eq!(Status::from_str("on-bail", false), Ok(Status::OnBail));
        assert!(Status::from_str("fugitive", false).is_err());
        assert_eq!(
            AlertCategory::RumourOrCommunal.to_proto(),
            pb::AlertCategory::RumourOrCommunal as i32
        );
        assert_eq!(
            AlertCategory::from_str("wanted-person", false),
            Ok(AlertCategory::WantedPerson)
        );
        assert_eq!(
            AlertPriority::from_str("flash", false),
            Ok(AlertPriority::Flash)
        );
        assert!(AlertPriority::from_str("urgent", false).is_err());
        let words: Vec<&str> = AlertCategory::ALL.iter().map(|c| c.word()).collect();
        assert_eq!(
            words,
            [
                "robbery",
                "wanted-person",
                "vehicle-lookout",
                "missing-person",
                "escaped-prisoner",
                "rumour-or-communal",
                "other"
            ]
        );
    }

    #[test]
    fn json_uses_the_same_words() -> Result<(), serde_json::Error> {
        assert_eq!(
            serde_json::to_string(&Handling::LocalOnly)?,
            "\"local-only\""
        );
        assert_eq!(
            serde_json::from_str::<MoCategory>("\"atm-robbery\"")?,
            MoCategory::AtmRobbery
        );
        Ok(())
    }
}
