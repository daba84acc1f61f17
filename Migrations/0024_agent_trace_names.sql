-- The names an agent's traces give it (gen_ai.agent.name or gen_ai.agent.id) when they are
-- neither its key nor its name ("Support Agent v2"): its traces are matched by these too.
ALTER TABLE agents ADD COLUMN trace_names text[] NOT NULL DEFAULT '{}';
