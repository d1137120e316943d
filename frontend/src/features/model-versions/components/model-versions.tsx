import { useState } from 'react';

import { ErrorMessage } from '@/components/ui/error-message';
import { Loading } from '@/components/ui/loading';
import type { Deployment, DeploymentsOverview, ModelVersion, ServerWeights, ThresholdProfile } from '@/types/api';
import { formatDateTime } from '@/utils/format';

import {
  useActivateProfile,
  useDeployments,
  useInstallProfile,
  useInstallWeights,
  usePromote,
  useRollback,
  useServerWeights,
  useStartShadow,
  useStopShadow,
} from '../api/deployments';
import { ConfirmAction } from './confirm-action';
import { ShadowComparisonTable } from './shadow-comparison';

export function deploymentName(deployment: Deployment): string {
  const { model_version: version, profile } = deployment;
  const thresholds = profile ? `threshold profile ${profile.identity}` : "the card's own thresholds";
  return `${version.name} ${version.version} with ${thresholds}`;
}

function shortHash(hash: string | null | undefined): string {
  return hash ? `${hash.slice(0, 12)}…` : 'untrained';
}

function DeploymentSummary({ title, deployment }: { title: string; deployment: Deployment | null }) {
  return (
    <div className="deployment-summary">
      <h3>{title}</h3>
      {deployment ? (
        <p data-testid={`deployment-${title.toLowerCase()}`}>
          {deploymentName(deployment)}{' '}
          <span className="muted">(weights {shortHash(deployment.model_version.weights_sha256)})</span>
        </p>
      ) : (
        <p className="muted">None.</p>
      )}
    </div>
  );
}

function ProfileUpload() {
  const [file, setFile] = useState<File | null>(null);
  const install = useInstallProfile();
  return (
    <form
      className="profile-upload"
      onSubmit={(event) => {
        event.preventDefault();
        if (file) install.mutate(file);
      }}
    >
      <label>
        Threshold profile file (JSON from <code>python -m ml evaluate --profile-out</code>){' '}
        <input
          type="file"
          accept="application/json,.json"
          onChange={(event) => setFile(event.target.files?.[0] ?? null)}
        />
      </label>{' '}
      <button type="submit" disabled={!file || install.isPending}>
        Install profile
      </button>
      {install.isSuccess && <p role="status">Installed {install.data.identity}.</p>}
      {install.isError && <ErrorMessage error={install.error} />}
    </form>
  );
}

function versionOf(profile: ThresholdProfile, versions: ModelVersion[]): ModelVersion | undefined {
  return versions.find((version) => version.weights_sha256 === profile.weights_sha256);
}

function ProfilesTable({ overview }: { overview: DeploymentsOverview }) {
  const activate = useActivateProfile();
  const shadow = useStartShadow();
  const active = overview.active;
  return (
    <>
      <div className="table-scroll">
        <table aria-label="Threshold profiles">
          <thead>
            <tr>
              <th scope="col">Profile</th>
              <th scope="col">For</th>
              <th scope="col">Rule</th>
              <th scope="col">Installed</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {overview.profiles.map((profile) => {
              const version = versionOf(profile, overview.versions);
              const isActive = active.profile?.id === profile.id;
              const forActive = profile.weights_sha256 === active.model_version.weights_sha256;
              return (
                <tr key={profile.id}>
                  <th scope="row">{profile.identity}</th>
                  <td>
                    {profile.model} <span className="muted">({shortHash(profile.weights_sha256)})</span>
                  </td>
                  <td>{profile.rule}</td>
                  <td>{formatDateTime(profile.installed_at)}</td>
                  <td>
                    <div className="row-actions">
                      {isActive ? (
                        <span>Active</span>
                      ) : (
                        forActive && (
                          <ConfirmAction
                            label={`Activate ${profile.identity}`}
                            question={`New analyses will use ${profile.identity}'s thresholds. Results already stored keep theirs.`}
                            disabled={activate.isPending}
                            onConfirm={() => activate.mutate(profile.id)}
                          />
                        )
                      )}
                      {version && !isActive && (
                        <ConfirmAction
                          label={`Run ${profile.identity} in shadow`}
                          question={`${version.name} ${version.version} with ${profile.identity} will also analyse each new study, never shown to clinicians.`}
                          disabled={shadow.isPending}
                          onConfirm={() => shadow.mutate({ model_version: version.id, profile: profile.id })}
                        />
                      )}
                    </div>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {overview.profiles.length === 0 && <p className="muted">No threshold profile is installed.</p>}
      {active.profile && (
        <ConfirmAction
          label="Use the card's own thresholds"
          question="New analyses will use the model card's thresholds instead of the site profile."
          disabled={activate.isPending}
          onConfirm={() => activate.mutate(null)}
        />
      )}
      {activate.isError && <ErrorMessage error={activate.error} />}
      {shadow.isError && <ErrorMessage error={shadow.error} />}
    </>
  );
}

function VersionsTable({ overview }: { overview: DeploymentsOverview }) {
  const shadow = useStartShadow();
  return (
    <>
      <div className="table-scroll">
        <table aria-label="Installed weights">
          <thead>
            <tr>
              <th scope="col">Model</th>
              <th scope="col">Weights</th>
              <th scope="col">Installed</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {overview.versions.map((version) => (
              <tr key={version.id}>
                <th scope="row">
                  {version.name} {version.version} {version.trained ? '' : '(untrained)'}
                </th>
                <td>
                  <code>{shortHash(version.weights_sha256)}</code> <span className="muted">{version.weights_dir}</span>
                </td>
                <td>{formatDateTime(version.installed_at)}</td>
                <td>
                  {overview.active.model_version.id !== version.id && (
                    <ConfirmAction
                      label={`Run ${version.name} ${version.version} in shadow`}
                      question={`${version.name} ${version.version} (its card's thresholds) will also analyse each new study, never shown to clinicians.`}
                      disabled={shadow.isPending}
                      onConfirm={() => shadow.mutate({ model_version: version.id, profile: null })}
                    />
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {shadow.isError && <ErrorMessage error={shadow.error} />}
    </>
  );
}

function serverWeightsName(weights: ServerWeights): string {
  if (weights.error) return 'Not readable as weights';
  return `${weights.name} ${weights.version}${weights.trained ? '' : ' (untrained)'}`;
}

/** The weights folders the operator put on the server, each installable here (audited). */
function ServerWeightsTable() {
  const weights = useServerWeights();
  const install = useInstallWeights();
  if (weights.isPending) return <Loading label="Reading the server's weights folders…" />;
  if (weights.isError) return <ErrorMessage error={weights.error} />;
  return (
    <>
      {weights.data.length === 0 ? (
        <p className="muted">
          No weights folder is offered: the operator puts each model&apos;s folder (its <code>card.json</code> and
          weights) under the folder <code>CXR_WEIGHTS_ROOT</code> names, or installs one with{' '}
          <code>make manage ARGS=&quot;model_version_install DIR&quot;</code>.
        </p>
      ) : (
        <div className="table-scroll">
          <table aria-label="Weights on the server">
            <thead>
              <tr>
                <th scope="col">Folder</th>
                <th scope="col">Model</th>
                <th scope="col">Weights</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {weights.data.map((folder) => (
                <tr key={folder.weights_dir}>
                  <th scope="row">
                    <code>{folder.weights_dir}</code>
                  </th>
                  <td>
                    {serverWeightsName(folder)}
                    {folder.error && <span className="muted"> ({folder.error})</span>}
                  </td>
                  <td>
                    <code>{shortHash(folder.weights_sha256)}</code>
                  </td>
                  <td>
                    {folder.installed ? (
                      <span>Installed</span>
                    ) : (
                      !folder.error && (
                        <ConfirmAction
                          label={`Install ${serverWeightsName(folder)}`}
                          question={`${serverWeightsName(folder)} will be listed as installed weights, to run in shadow; nothing analyses with it until then.`}
                          disabled={install.isPending}
                          onConfirm={() => install.mutate(folder.weights_dir)}
                        />
                      )
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {install.isError && <ErrorMessage error={install.error} />}
    </>
  );
}

function StateActions({ overview }: { overview: DeploymentsOverview }) {
  const stop = useStopShadow();
  const promote = usePromote();
  const rollback = useRollback();
  return (
    <div className="row-actions">
      {overview.shadow && (
        <>
          <ConfirmAction
            label="Promote the shadow model"
            question={`${deploymentName(overview.shadow)} will analyse every new study; the active one is kept for a rollback. Old studies are not re-analysed.`}
            disabled={promote.isPending}
            onConfirm={() => promote.mutate()}
          />
          <ConfirmAction
            label="Stop the shadow model"
            question="The candidate stops running; its stored results and comparison stay."
            disabled={stop.isPending}
            onConfirm={() => stop.mutate()}
          />
        </>
      )}
      {overview.previous && (
        <ConfirmAction
          label="Roll back"
          question={`${deploymentName(overview.previous)} will analyse every new study again.`}
          disabled={rollback.isPending}
          danger
          onConfirm={() => rollback.mutate()}
        />
      )}
      {[stop, promote, rollback].map((change, index) =>
        change.isError ? <ErrorMessage key={index} error={change.error} /> : null,
      )}
    </div>
  );
}

/** The admin's page for the model's life at the site: profiles, shadow runs, promotion, rollback. */
export function ModelVersions() {
  const deployments = useDeployments();
  if (deployments.isPending) return <Loading label="Loading the model versions…" />;
  if (deployments.isError) return <ErrorMessage error={deployments.error} />;
  const overview = deployments.data;
  return (
    <div className="model-versions-page">
      <h1>Model versions</h1>
      <section className="card" aria-labelledby="deployment-state-heading">
        <h2 id="deployment-state-heading">What analyses now</h2>
        <DeploymentSummary title="Active" deployment={overview.active} />
        <DeploymentSummary title="Shadow" deployment={overview.shadow} />
        <DeploymentSummary title="Previous" deployment={overview.previous} />
        <StateActions overview={overview} />
      </section>
      <section className="card" aria-labelledby="profiles-heading">
        <h2 id="profiles-heading">Threshold profiles</h2>
        <ProfileUpload />
        <ProfilesTable overview={overview} />
      </section>
      <section className="card" aria-labelledby="versions-heading">
        <h2 id="versions-heading">Installed weights</h2>
        <VersionsTable overview={overview} />
      </section>
      <section className="card" aria-labelledby="server-weights-heading">
        <h2 id="server-weights-heading">Weights on the server</h2>
        <ServerWeightsTable />
      </section>
      <section className="card" aria-labelledby="comparison-heading">
        <h2 id="comparison-heading">Shadow comparison</h2>
        <ShadowComparisonTable />
      </section>
    </div>
  );
}
