-- Temporal keeps its own databases beside metalflow's on the same PostgreSQL server.
CREATE DATABASE temporal OWNER metalflow;
CREATE DATABASE temporal_visibility OWNER metalflow;
