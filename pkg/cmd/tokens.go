package cmd

// defaultGitLabURL is where login goes without --gitlab-url or $GITLAB_URL.
const defaultGitLabURL = "https://gitlab.com"

// tokenStoreUsage is the --token-store flag's help.
const tokenStoreUsage = "where personal access tokens are kept: auto (the OS keyring, else a 0600 file), keyring, file or none"
