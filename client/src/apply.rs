//! Applies field flags to a record or note: each flag given replaces that whole field, and
//! flags not given leave the field alone.

use crate::cli::{MoFields, RecordFields};
use crate::view::{MoView, RecordView};

/// Replaces `target` with `value` when the flag was given.
fn set<T: Clone>(target: &mut T, value: &Option<T>) {
    if let Some(v) = value {
        *target = v.clone();
    }
}

/// Replaces a list with the repeated flag's values when the flag was given at least once.
fn set_list<T: Clone>(target: &mut Vec<T>, values: &[T]) {
    if !values.is_empty() {
        *target = values.to_vec();
    }
}

/// Replaces a list of texts with the repeated flag's values when the flag was given; an
/// empty value stands for nothing, so that `--alias ""` alone clears the list.
fn set_texts(target: &mut Vec<String>, values: &[String]) {
    if !values.is_empty() {
        *target = values
            .iter()
            .filter(|v| !v.trim().is_empty())
            .cloned()
            .collect();
    }
}

/// Replaces a list of words with the repeated flag's values when the flag was given; an
/// empty value (`None`) stands for nothing, so that `--warning ""` alone clears the list.
fn set_words<T: Clone>(target: &mut Vec<T>, values: &[Option<T>]) {
    if !values.is_empty() {
        *target = values.iter().flatten().cloned().collect();
    }
}

impl RecordFields {
    /// Whether any field flag (not counting `--file`) was given.
    pub fn has_flags(&self) -> bool {
        let texts = [
            &self.name,
            &self.name_local,
            &self.father_name,
            &self.external_ref,
        ];
        let numbers = [self.birth_year, self.age_min, self.age_max];
        texts.iter().any(|v| v.is_some())
            || numbers.iter().any(Option::is_some)
            || self.gender.is_some()
            || self.status.is_some()
            || self.handling.is_some()
            || self.reward.is_some()
            || !self.aliases.is_empty()
            || !self.phones.is_empty()
            || !self.vehicles.is_empty()
            || !self.warnings.is_empty()
            || !self.marks.is_empty()
            || !self.addresses.is_empty()
            || !self.cases.is_empty()
            || !self.associates.is_empty()
    }

    /// Writes the given flags into `record`.
    pub fn apply(&self, record: &mut RecordView) {
        set(&mut record.name, &self.name);
        set(&mut record.name_local, &self.name_local);
        set_texts(&mut record.aliases, &self.aliases);
        set(&mut record.father_name, &self.father_name);
        if self.gender.is_some() {
            record.gender = self.gender;
        }
        set(&mut record.birth_year, &self.birth_year);
        set(&mut record.age_min, &self.age_min);
        set(&mut record.age_max, &self.age_max);
        if self.status.is_some() {
            record.status = self.status;
        }
        set_texts(&mut record.phones, &self.phones);
        set_texts(&mut record.vehicles, &self.vehicles);
        set_words(&mut record.warnings, &self.warnings);
        if self.handling.is_some() {
            record.handling = self.handling;
        }
        set(&mut record.external_ref, &self.external_ref);
        set_texts(&mut record.identifying_marks, &self.marks);
        set(&mut record.reward_inr, &self.reward);
        set_list(&mut record.addresses, &self.addresses);
        set_list(&mut record.cases, &self.cases);
        set_texts(&mut record.associates, &self.associates);
    }
}

impl MoFields {
    /// Whether any field flag (not counting `--file`) was given.
    pub fn has_flags(&self) -> bool {
        let texts = [
            &self.category_other,
            &self.summary,
            &self.time_of_day,
            &self.first_seen,
            &self.last_seen,
        ];
        texts.iter().any(|v| v.is_some())
            || self.category.is_some()
            || self.handling.is_some()
            || !self.records.is_empty()
            || !self.weapons.is_empty()
            || !self.vehicles.is_empty()
            || !self.targets.is_empty()
            || !self.escape_routes.is_empty()
            || !self.places.is_empty()
            || !self.cases.is_empty()
    }

    /// Writes the given flags into `note`.
    pub fn apply(&self, note: &mut MoView) {
        if self.category.is_some() {
            note.category = self.category;
        }
        set(&mut note.category_other, &self.category_other);
        set(&mut note.summary, &self.summary);
        set_list(&mut note.record_ids, &self.records);
        set_list(&mut note.method.weapons, &self.weapons);
        set_list(&mut note.method.vehicles, &self.vehicles);
        set(&mut note.method.time_of_day, &self.time_of_day);
        set_list(&mut note.method.targets, &self.targets);
        set_list(&mut note.method.escape_routes, &self.escape_routes);
        set_list(&mut note.places, &self.places);
        set(&mut note.first_seen, &self.first_seen);
        set(&mut note.last_seen, &self.last_seen);
        set_list(&mut note.cases, &self.cases);
        if self.handling.is_some() {
            note.handling = self.handling;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::words::{Status, Warning};

    #[test]
    fn given_flags_replace_and_others_stay() {
        let mut record = RecordView {
            name: "Raju Mahto".into(),
            aliases: vec!["Kalua".into()],
            warnings: vec![Warning::Armed],
            ..RecordView::default()
        };
        let fields = RecordFields {
            status: Some(Status::Arrested),
            aliases: vec!["Raju Bhai".into()],
            ..RecordFields::default()
        };
        fields.apply(&mut record);
        assert_eq!(record.name, "Raju Mahto");
        assert_eq!(record.aliases, vec!["Raju Bhai"]);
        assert_eq!(record.warnings, vec![Warning::Armed]);
        assert_eq!(record.status, Some(Status::Arrested));
    }

    #[test]
    fn flags_setting_empty_values_still_count() {
        assert!(!RecordFields::default().has_flags());
        let zero = RecordFields {
            reward: Some(0),
            ..RecordFields::default()
        };
        assert!(zero.has_flags());
        let blank = MoFields {
            last_seen: Some(String::new()),
            ..MoFields::default()
        };
        assert!(blank.has_flags());
    }
}
