"""What critparse writes for people and other tools: flat rows (`rows`), FHIR EvidenceVariable
(`fhir`) and the HTML review page (`report`)."""
