export { RegistryResolver, DEFAULT_LIMITS, DEFAULT_REPOSITORY_SPELLINGS, type RegistryResolverOptions } from './resolver.ts';
export { loadAuthFile, parseDockerConfig, findCredential, type Credential } from './credentials.ts';
