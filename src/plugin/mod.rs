//! Front ends for other tools: the Argo CD config-management plugin and the KRM function.
