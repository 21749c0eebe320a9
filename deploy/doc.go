// Package deploy holds what docker-compose.yml mounts (PostgreSQL's init
// script, the Temporal schema and namespace jobs, Temporal's dynamic
// config), the TLS override and the development env file. Its test loads
// the compose file the way Docker Compose does and checks the production
// topology; docs/deployment.md is the operator's guide.
package deploy
