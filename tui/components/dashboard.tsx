/**
 * The whole screen, from the view state: header, repos beside the pipeline DAG, the
 * windowed jobs list, the open panel, and the footer. Presentational: the app computes the
 * layout, the list window and the clock, and passes them in.
 */
import { Box } from "ink";
import { cronEntries, dagLines } from "../dag.ts";
import type { Layout } from "../layout.ts";
import { activeJobs, footerMessage, jobsWindow, selectedIndex, selectedJob } from "../select.ts";
import type { ViewState } from "../view.ts";
import { Footer } from "./footer.tsx";
import { Header } from "./header.tsx";
import { JobDetail } from "./job_detail.tsx";
import { JobsList } from "./jobs_list.tsx";
import { PipelineDag } from "./pipeline_dag.tsx";
import { ReposTable } from "./repos_table.tsx";
import type { Theme } from "./theme.ts";

/** Props of `Dashboard`. */
export interface DashboardProps {
  readonly view: ViewState;
  readonly layout: Layout;
  /** First row of the jobs list window. */
  readonly listStart: number;
  readonly now: number;
  /** Next tick of each cron input (ms since epoch), by `pipeline/input`. */
  readonly cronNext: ReadonlyMap<string, number>;
  readonly store: string;
  readonly sandbox: string;
  readonly theme: Theme;
}

/** Rows the repos / DAG strip would like. */
export function topWanted(view: ViewState): number {
  const dag = dagLines(view.pipelines).length + view.metrics.length +
    cronEntries(view.pipelines).length;
  return Math.max(1, view.repos.length, dag);
}

/** The dashboard screen. */
export function Dashboard(props: DashboardProps) {
  const { view, layout, theme, now } = props;
  const { width } = layout;
  const reposWidth = Math.min(56, Math.floor(width * 0.42));
  const states = new Map<string, string>();
  for (const [p, id] of view.latest) {
    const j = view.jobs.get(id);
    if (j) states.set(p, j.state);
  }
  const cron = cronEntries(view.pipelines).map((entry) => ({
    entry,
    next: props.cronNext.get(entry.key) ?? null,
  }));
  const jobs = jobsWindow(view, props.listStart, layout.jobRows);
  return (
    <Box flexDirection="column" width={width} height={layout.height}>
      <Header
        store={props.store}
        scheduler={view.scheduler}
        replay={view.replay}
        sandbox={props.sandbox}
        active={activeJobs(view)}
        total={view.totalJobs}
        width={width}
        theme={theme}
      />
      <Box flexDirection="row" width={width} height={layout.topRows + 1}>
        <ReposTable
          repos={view.repos}
          rows={layout.topRows}
          width={reposWidth}
          now={now}
          theme={theme}
        />
        <Box width={2} />
        <PipelineDag
          lines={dagLines(view.pipelines)}
          cron={cron}
          metrics={view.metrics}
          states={states}
          paused={new Set(view.pipelines.filter((p) => p.paused).map((p) => p.name))}
          rows={layout.topRows}
          width={width - reposWidth - 2}
          now={now}
          theme={theme}
        />
      </Box>
      <JobsList
        jobs={jobs}
        start={props.listStart}
        kept={view.order.length}
        total={view.totalJobs}
        selected={selectedIndex(view)}
        rows={layout.jobRows}
        width={width}
        now={now}
        theme={theme}
      />
      {view.panel !== "none" && layout.panelRows > 0
        ? (
          <JobDetail
            job={selectedJob(view)}
            mode={view.panel}
            rows={layout.panelRows}
            width={width}
            now={now}
            theme={theme}
          />
        )
        : null}
      <Footer message={footerMessage(view, now)} width={width} theme={theme} />
    </Box>
  );
}
