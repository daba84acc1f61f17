-- Which fields of an entity a hand-written file stated: bit i is the i-th field of the entity's
-- table as `EntityTable` declares it (its columns, then the edge lists it owns; new fields are
-- only ever appended). A hand-written entry sets the fields it states and leaves the others as
-- the sources brought them; a field set by hand stands over every source's word, whatever the
-- order of the imports. Until now only name, owner, supplier and third_party were kept from a
-- source's word, for every row a hand-written file described: those bits are set here.
ALTER TABLE resources   ADD COLUMN hand_fields bigint NOT NULL DEFAULT 0;
ALTER TABLE datasets    ADD COLUMN hand_fields bigint NOT NULL DEFAULT 0;
ALTER TABLE models      ADD COLUMN hand_fields bigint NOT NULL DEFAULT 0;
ALTER TABLE credentials ADD COLUMN hand_fields bigint NOT NULL DEFAULT 0;
ALTER TABLE agents      ADD COLUMN hand_fields bigint NOT NULL DEFAULT 0;
UPDATE resources   SET hand_fields = 3  WHERE hand_written;   -- name, owner
UPDATE datasets    SET hand_fields = 3  WHERE hand_written;   -- name, owner
UPDATE models      SET hand_fields = 15 WHERE hand_written;   -- name, supplier, owner, third_party
UPDATE credentials SET hand_fields = 4  WHERE hand_written;   -- owner
UPDATE agents      SET hand_fields = 3  WHERE hand_written;   -- name, owner
