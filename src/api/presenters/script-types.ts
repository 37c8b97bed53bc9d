// MAAS's script and result type names: defined with the scripts service, which reads them from
// scripts' embedded YAML too.
export * from '../../region/services/scripts/script-enums';
