//! Pure: the editing API of [`AwsAuth`]: upsert, remove and render. Each edit splices only the
//! bytes of the entry it touches (`edit.rs`) and is then read back (`reread.rs`, or a full
//! parse) and checked to say exactly the intended entries before it is kept.

use std::collections::BTreeMap;

use super::document::{AwsAuth, Doc, Entry, items, load};
use super::edit::{self, EntryStyle};
use super::model::{DataKey, EditError, RoleMapping, Upsert, UserMapping};
use super::reread::{patch_doc, reread_window};
use super::yaml::Kind;

const ROLE_FIELDS: &[&str] = &["rolearn", "sso", "username", "groups", "userid"];
const USER_FIELDS: &[&str] = &["userarn", "username", "groups", "userid"];

fn same_groups(a: &[String], b: &[String]) -> bool {
    let mut a: Vec<&String> = a.iter().collect();
    let mut b: Vec<&String> = b.iter().collect();
    a.sort();
    a.dedup();
    b.sort();
    b.dedup();
    a == b
}

impl AwsAuth {
    /// Refuses to edit a value read with a problem (see [`AwsAuth::problems`]).
    fn editable(&self, key: DataKey) -> Result<(), EditError> {
        let doc = match key {
            DataKey::MapUsers => &self.users_doc,
            _ => &self.roles_doc,
        };
        match doc.as_ref().and_then(|d| d.problem.as_ref()) {
            Some(p) => Err(EditError::NotEditable(p.clone())),
            None => Ok(()),
        }
    }

    fn style_for(&self, key: DataKey) -> EntryStyle {
        let (own, other, canon, other_canon, from, to) = match key {
            DataKey::MapUsers => (
                &self.users_doc,
                &self.roles_doc,
                USER_FIELDS,
                ROLE_FIELDS,
                "rolearn",
                "userarn",
            ),
            _ => (
                &self.roles_doc,
                &self.users_doc,
                ROLE_FIELDS,
                USER_FIELDS,
                "userarn",
                "rolearn",
            ),
        };
        let template = |doc: &Option<Doc>, canon: &[&'static str]| {
            let doc = doc.as_ref()?;
            let root = doc.root.as_ref()?;
            let Kind::Seq { items, flow } = &root.kind else {
                return None;
            };
            let entry = items
                .iter()
                .rev()
                .find(|n| matches!(n.kind, Kind::Map { .. }))?;
            let dash_col = if *flow { 0 } else { root.col };
            Some(EntryStyle::learn(&doc.text, entry, canon, dash_col))
        };
        if let Some(st) = template(own, canon) {
            return st;
        }
        let own_col = own
            .as_ref()
            .and_then(|d| d.root.as_ref())
            .map_or(0, |r| r.col);
        match template(other, other_canon) {
            Some(st) if !st.flow_entry => st.translate(from, to, own_col),
            _ => EntryStyle::default_at(own_col),
        }
    }

    /// Add or update the mapping for `m.rolearn` (or its `sso` matcher). An existing entry is
    /// updated in place (username and groups only; groups compared as a set); with duplicates,
    /// the effective (last) one is updated and the others are reported as shadowed.
    pub fn upsert_role(&mut self, m: RoleMapping) -> Result<Upsert, EditError> {
        self.upsert(m)
    }

    /// Add or update the mapping for `m.userarn` (compared without case), as [`Self::upsert_role`].
    pub fn upsert_user(&mut self, m: UserMapping) -> Result<Upsert, EditError> {
        self.upsert(m)
    }

    fn upsert<M: Entry>(&mut self, m: M) -> Result<Upsert, EditError> {
        self.editable(M::KEY)?;
        let found = m.same_identity(self);
        let style = self.style_for(M::KEY);
        let (doc, entries) = M::list(self);
        let text = doc.map_or("", |d| d.text.as_str()).to_owned();
        if let Some((&index, rest)) = found.split_last() {
            let shadowed = rest.to_vec();
            let cur = &entries[index];
            let username = (cur.username() != m.username()).then_some(m.username());
            let groups = (!same_groups(cur.groups(), m.groups())).then_some(m.groups());
            if username.is_none() && groups.is_none() {
                return Ok(Upsert::Unchanged { index, shadowed });
            }
            let mut want = entries.to_vec();
            want[index].update_from(&m, groups.is_some());
            let doc = doc.expect("entries come from a document");
            let entry = &items(doc.root.as_ref())[index];
            let splices =
                edit::update_entry(&text, entry, &doc.refs[index], &style, username, groups);
            let edited = edit::apply(&text, splices);
            let fallback = edit::replace_entry_flow(
                &text,
                doc.root.as_ref().expect("root"),
                index,
                &want[index].fields(),
            );
            self.commit(Some(index), edited, fallback, want)?;
            return Ok(Upsert::Updated { index, shadowed });
        }
        let root = doc.and_then(|d| d.root.as_ref());
        let edited = edit::append_entry(&text, root, &style, &m.fields());
        let fallback = edit::append_entry(
            &text,
            root,
            &EntryStyle::default_at(root.map_or(0, |r| r.col)),
            &m.fields(),
        );
        let last = entries.len().checked_sub(1);
        let mut want = entries.to_vec();
        want.push(m);
        let added = want.len() - 1;
        self.commit(last, edited, fallback, want)?;
        Ok(Upsert::Added { index: added })
    }

    /// Remove every `mapRoles` and `mapUsers` entry whose ARN equals `arn` without case (all
    /// duplicates, valid or not). Returns how many entries were removed.
    pub fn remove(&mut self, arn: &str) -> Result<usize, EditError> {
        self.editable(DataKey::MapRoles)?;
        self.editable(DataKey::MapUsers)?;
        let mut removed = 0;
        while let Some(i) = self
            .roles
            .iter()
            .rposition(|r| !r.rolearn.is_empty() && super::model::go_equal_fold(&r.rolearn, arn))
        {
            let doc = self
                .roles_doc
                .as_ref()
                .expect("entries come from a document");
            let edited = edit::remove_entry(&doc.text, doc.root.as_ref().expect("root"), i);
            let mut want = self.roles.clone();
            want.remove(i);
            self.commit(Some(i), edited.clone(), edited, want)?;
            removed += 1;
        }
        while let Some(i) = self
            .users
            .iter()
            .rposition(|u| !u.userarn.is_empty() && super::model::go_equal_fold(&u.userarn, arn))
        {
            let doc = self
                .users_doc
                .as_ref()
                .expect("entries come from a document");
            let edited = edit::remove_entry(&doc.text, doc.root.as_ref().expect("root"), i);
            let mut want = self.users.clone();
            want.remove(i);
            self.commit(Some(i), edited.clone(), edited, want)?;
            removed += 1;
        }
        Ok(removed)
    }

    /// Replaces the list `M::KEY` by `edited` (or, if that does not read back as `want`,
    /// `fallback`), after checking that it reads back as exactly `want`. `index` is the entry
    /// whose lines the edit changed (for an append, the last old entry). Nothing changes on error.
    fn commit<M: Entry>(
        &mut self,
        index: Option<usize>,
        edited: String,
        fallback: String,
        want: Vec<M>,
    ) -> Result<(), EditError> {
        let (data, doc_slot, entries) = M::parts(self);
        for text in [edited, fallback] {
            if let (Some(doc), Some(i)) = (doc_slot.as_mut(), index)
                && let Some(w) = reread_window(doc, &text, i, &want)
            {
                data.insert(M::KEY.as_str().to_owned(), text.clone());
                patch_doc(doc, entries, text, w);
                return Ok(());
            }
            let (doc, read) = load::<M>(&text);
            if doc.problem.is_none() && read == want {
                data.insert(M::KEY.as_str().to_owned(), text);
                *doc_slot = Some(doc);
                *entries = read;
                return Ok(());
            }
        }
        Err(EditError::NoReadBack { key: M::KEY })
    }

    /// The ConfigMap data: keys and lines no edit touched are byte-for-byte as parsed.
    pub fn render(&self) -> BTreeMap<String, String> {
        self.data.clone()
    }
}
