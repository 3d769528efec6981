/** CPU time of this process in ms: the machine is shared, so wall time says little. */
export const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
