/** The part of jStat (CommonJS, no bundled types) that tuner uses: Student's t distribution. */
declare module 'jstat' {
  interface StudentT {
    cdf(x: number, dof: number): number;
    inv(p: number, dof: number): number;
  }
  const jstat: { jStat: { studentt: StudentT } };
  export default jstat;
}
