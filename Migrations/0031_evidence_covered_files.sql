-- The model's files a record's check covered (a scan report names them), by path. A fail on a
-- file stands until a later record covers that file; an empty list is about the whole subject.
-- Part of the record's hash when not empty (records made before keep their hashes).
ALTER TABLE evidence ADD COLUMN covered_files text[] NOT NULL DEFAULT '{}';
CREATE INDEX evidence_naming_files ON evidence (subject_key, control_id) WHERE subject_kind = 'model' AND covered_files <> '{}';
