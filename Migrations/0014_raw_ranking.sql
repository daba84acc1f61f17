-- Ranking beyond the cap. A score is round(100 · min(1, P·I·H)): every credential whose product
-- reaches 1 scores 100, and a list ordered by score alone put a thousand of them in id order, so
-- its top 20 said nothing. `raw` is the product before the cap; lists order by it (which orders
-- by score too, the score being a non-decreasing function of it) and show it.
--
-- Generated from the stored factors, so no writer can disagree with them; PostgreSQL multiplies
-- (p · impact) · hygiene in the same order and IEEE arithmetic as the scoring engine.
ALTER TABLE credential_scores ADD COLUMN raw double precision GENERATED ALWAYS AS (p * impact * hygiene) STORED;
ALTER TABLE incremental_scores ADD COLUMN raw double precision GENERATED ALWAYS AS (p * impact * hygiene) STORED;

DROP INDEX credential_scores_by_score;
CREATE INDEX credential_scores_by_raw ON credential_scores (run_id, raw DESC, credential_id);
