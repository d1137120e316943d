export function DecisionSupportNotice() {
  return <p className="decision-support-notice">Decision support, not a diagnosis.</p>;
}
