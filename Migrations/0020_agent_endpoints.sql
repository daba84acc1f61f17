-- Where an agent is reached when it is a service of its own (an MCP server, a remote agent): the
-- agents that delegate to it may call these hosts or URL prefixes.
ALTER TABLE agents ADD COLUMN endpoints text[] NOT NULL DEFAULT '{}';
