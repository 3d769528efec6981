export { RegistrySource, DEFAULT_LIMITS, DEFAULT_REPOSITORY_SPELLINGS, type RegistrySourceOptions } from './source.ts';
export { loadAuthFile, parseDockerConfig, findCredential, type Credential } from './credentials.ts';
