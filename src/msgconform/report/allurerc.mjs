// msgconform's Allure 3 configuration (npm package `allure`, pinned in package.json).
//
// `msgconform report` (and the end of `msgconform run`) runs
//     node node_modules/.bin/allure generate -c allurerc.mjs -o OUT <report-dir>/allure-results
// once, with two instances of the awesome plugin: `awesome` writes OUT/awesome/ (which becomes
// <report-dir>/html/) and `single` writes OUT/single/index.html, the same report as one file
// (<report-dir>/report.html). One run reads the results and the history once for both (two
// runs took twice as long). The history's path and whether to extend it come from the
// environment, set by src/msgconform/report/allure_html.py. The export is a plain object, as
// Allure expects.
const env = process.env;
// What this report counts, in its title: the matrix and junit.xml count catalogued cases only.
const title = "msgconform: one result per catalogued case, per test operation and per pytest test";

export default {
  name: title,
  historyPath: env.MSGCONFORM_ALLURE_HISTORY,
  appendHistory: env.MSGCONFORM_ALLURE_APPEND_HISTORY !== "false",
  // The first rule that matches a result decides its category. Labels come from
  // src/msgconform/traceability.py (`level`); messages from the harness and preflight.
  categories: [
    {
      // --baseline: a known deviation a baseline entry accepts (the message is "waived: REASON")
      name: "Waived by the baseline (known deviation)",
      matchers: { statuses: ["skipped"], message: /^waived: / },
    },
    {
      name: "Nonconformance (MUST)",
      matchers: { statuses: ["failed"], labels: { level: "MUST" } },
    },
    {
      name: "Non-strict (SHOULD)",
      matchers: { statuses: ["failed"], labels: { level: "SHOULD" } },
    },
    {
      name: "Target unreachable",
      matchers: {
        statuses: ["broken"],
        message: /no answer|cannot reach|did not answer|unreachable|Connect(ion)?Error|Timeout/i,
      },
    },
    {
      name: "Harness error (the suite could not judge)",
      matchers: { statuses: ["broken"] },
    },
  ],
  plugins: {
    awesome: {
      options: { reportName: title, singleFile: false, groupBy: ["epic", "feature"] },
    },
    single: {
      import: "@allurereport/plugin-awesome",
      options: { reportName: title, singleFile: true, groupBy: ["epic", "feature"] },
    },
  },
};
