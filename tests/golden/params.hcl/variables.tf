# The network to deploy into, and sizes.
variable "aws_region" {
  type = string
  description = "AWS region to deploy to"
}

variable "vpc_id" {
  type = string
  description = "the VPC of the tasks"
}

variable "subnet_ids" {
  type = list(string)
  description = "subnets of the tasks (and EFS mount targets)"
}

variable "assign_public_ip" {
  type = bool
  description = "give tasks public addresses (public subnets without a NAT gateway)"
  default = false
}

variable "public_subnet_ids" {
  type = list(string)
  description = "public subnets of the load balancer"
}

variable "ingress_cidr_blocks" {
  type = list(string)
  description = "who may reach the load balancer"
  default = ["0.0.0.0/0"]
}

variable "task_cpu" {
  type = map(number)
  description = "CPU units per app (by name); 256 when not given"
  default = {}
}

variable "task_memory" {
  type = map(number)
  description = "memory (MiB) per app (by name); 512 when not given"
  default = {}
}

variable "log_retention_days" {
  type = number
  description = "days CloudWatch keeps the apps' logs"
  default = 30
}

# Parameters of the app.
variable "region" {
  type = string
  description = "parameter region"
  default = "eu-west-1"
}

variable "api_key" {
  type = string
  description = "parameter api_key"
  sensitive = true
}

variable "log_level" {
  type = string
  description = "parameter log_level"
  default = "info"
}
