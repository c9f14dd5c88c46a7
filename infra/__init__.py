"""Infrastructure: the CloudFormation stacks and the command that packages and deploys them."""
