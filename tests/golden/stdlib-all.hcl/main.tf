# AWS ECS Fargate deployment of stdlib-all, written by aspirec.
# Deploy: terraform init && terraform apply

provider "aws" {
  region = var.aws_region
}

resource "aws_ecs_cluster" "main" {
  name = "stdlib-all"
}

# Service discovery: every app with an endpoint is NAME.stdlib-all.local.
resource "aws_service_discovery_private_dns_namespace" "main" {
  name = "stdlib-all.local"
  vpc = var.vpc_id
}

resource "aws_security_group" "tasks" {
  name_prefix = "stdlib-all-tasks-"
  description = "the tasks of the app; they reach each other on any port"
  vpc_id = var.vpc_id
  ingress {
    from_port = 0
    to_port = 0
    protocol = "-1"
    self = true
  }
  egress {
    from_port = 0
    to_port = 0
    protocol = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_iam_role" "execution" {
  name_prefix = "stdlib-all-exec-"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect = "Allow"
        Principal = {
          Service = "ecs-tasks.amazonaws.com"
        }
        Action = "sts:AssumeRole"
      },
    ]
  })
}

resource "aws_iam_role_policy_attachment" "execution" {
  role = aws_iam_role.execution.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

resource "aws_secretsmanager_secret" "pg_POSTGRES_PASSWORD" {
  name_prefix = "stdlib-all/pg/POSTGRES_PASSWORD-"
  recovery_window_in_days = 0
}

resource "aws_secretsmanager_secret_version" "pg_POSTGRES_PASSWORD" {
  secret_id = aws_secretsmanager_secret.pg_POSTGRES_PASSWORD.id
  secret_string = random_password.pg-password.result
}

resource "aws_cloudwatch_log_group" "pg" {
  name = "/ecs/stdlib-all/pg"
  retention_in_days = var.log_retention_days
}

resource "aws_ecs_task_definition" "pg" {
  family = "stdlib-all-pg"
  requires_compatibilities = ["FARGATE"]
  network_mode = "awsvpc"
  cpu = lookup(var.task_cpu, "pg", 256)
  memory = lookup(var.task_memory, "pg", 512)
  execution_role_arn = aws_iam_role.execution.arn
  container_definitions = jsonencode([
    {
      name = "pg"
      image = "docker.io/library/postgres:16.4"
      essential = true
      portMappings = [
        {
          name = "tcp"
          containerPort = 5432
          protocol = "tcp"
        },
      ]
      environment = [
        {
          name = "POSTGRES_HOST_AUTH_METHOD"
          value = "scram-sha-256"
        },
        {
          name = "POSTGRES_INITDB_ARGS"
          value = "--auth-host=scram-sha-256 --auth-local=scram-sha-256"
        },
        {
          name = "POSTGRES_USER"
          value = "postgres"
        },
      ]
      secrets = [
        {
          name = "POSTGRES_PASSWORD"
          valueFrom = aws_secretsmanager_secret.pg_POSTGRES_PASSWORD.arn
        },
      ]
      healthCheck = {
        command = [
          "CMD-SHELL",
          "nc -z 127.0.0.1 5432 || bash -c ': </dev/tcp/127.0.0.1/5432'",
        ]
        interval = 5
        timeout = 2
        retries = 10
      }
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group = aws_cloudwatch_log_group.pg.name
          awslogs-region = var.aws_region
          awslogs-stream-prefix = "pg"
        }
      }
    },
  ])
}

resource "aws_service_discovery_service" "pg" {
  name = "pg"
  dns_config {
    namespace_id = aws_service_discovery_private_dns_namespace.main.id
    routing_policy = "MULTIVALUE"
    dns_records {
      ttl = 10
      type = "A"
    }
  }
  health_check_custom_config {
    failure_threshold = 1
  }
}

resource "aws_ecs_service" "pg" {
  name = "pg"
  cluster = aws_ecs_cluster.main.id
  task_definition = aws_ecs_task_definition.pg.arn
  desired_count = 1
  launch_type = "FARGATE"
  network_configuration {
    subnets = var.subnet_ids
    security_groups = [aws_security_group.tasks.id]
    assign_public_ip = var.assign_public_ip
  }
  service_registries {
    registry_arn = aws_service_discovery_service.pg.arn
  }
}

resource "aws_cloudwatch_log_group" "cache" {
  name = "/ecs/stdlib-all/cache"
  retention_in_days = var.log_retention_days
}

resource "aws_ecs_task_definition" "cache" {
  family = "stdlib-all-cache"
  requires_compatibilities = ["FARGATE"]
  network_mode = "awsvpc"
  cpu = lookup(var.task_cpu, "cache", 256)
  memory = lookup(var.task_memory, "cache", 512)
  execution_role_arn = aws_iam_role.execution.arn
  container_definitions = jsonencode([
    {
      name = "cache"
      image = "docker.io/library/redis:7.4.1"
      essential = true
      portMappings = [
        {
          name = "tcp"
          containerPort = 6379
          protocol = "tcp"
        },
      ]
      healthCheck = {
        command = [
          "CMD-SHELL",
          "nc -z 127.0.0.1 6379 || bash -c ': </dev/tcp/127.0.0.1/6379'",
        ]
        interval = 5
        timeout = 2
        retries = 10
      }
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group = aws_cloudwatch_log_group.cache.name
          awslogs-region = var.aws_region
          awslogs-stream-prefix = "cache"
        }
      }
    },
  ])
}

resource "aws_service_discovery_service" "cache" {
  name = "cache"
  dns_config {
    namespace_id = aws_service_discovery_private_dns_namespace.main.id
    routing_policy = "MULTIVALUE"
    dns_records {
      ttl = 10
      type = "A"
    }
  }
  health_check_custom_config {
    failure_threshold = 1
  }
}

resource "aws_ecs_service" "cache" {
  name = "cache"
  cluster = aws_ecs_cluster.main.id
  task_definition = aws_ecs_task_definition.cache.arn
  desired_count = 1
  launch_type = "FARGATE"
  network_configuration {
    subnets = var.subnet_ids
    security_groups = [aws_security_group.tasks.id]
    assign_public_ip = var.assign_public_ip
  }
  service_registries {
    registry_arn = aws_service_discovery_service.cache.arn
  }
}

resource "aws_secretsmanager_secret" "bus_RABBITMQ_DEFAULT_PASS" {
  name_prefix = "stdlib-all/bus/RABBITMQ_DEFAULT_PASS-"
  recovery_window_in_days = 0
}

resource "aws_secretsmanager_secret_version" "bus_RABBITMQ_DEFAULT_PASS" {
  secret_id = aws_secretsmanager_secret.bus_RABBITMQ_DEFAULT_PASS.id
  secret_string = random_password.bus-password.result
}

resource "aws_cloudwatch_log_group" "bus" {
  name = "/ecs/stdlib-all/bus"
  retention_in_days = var.log_retention_days
}

resource "aws_ecs_task_definition" "bus" {
  family = "stdlib-all-bus"
  requires_compatibilities = ["FARGATE"]
  network_mode = "awsvpc"
  cpu = lookup(var.task_cpu, "bus", 256)
  memory = lookup(var.task_memory, "bus", 512)
  execution_role_arn = aws_iam_role.execution.arn
  container_definitions = jsonencode([
    {
      name = "bus"
      image = "docker.io/library/rabbitmq:3.13.7"
      essential = true
      portMappings = [
        {
          name = "tcp"
          containerPort = 5672
          protocol = "tcp"
        },
      ]
      environment = [
        {
          name = "RABBITMQ_DEFAULT_USER"
          value = "guest"
        },
      ]
      secrets = [
        {
          name = "RABBITMQ_DEFAULT_PASS"
          valueFrom = aws_secretsmanager_secret.bus_RABBITMQ_DEFAULT_PASS.arn
        },
      ]
      healthCheck = {
        command = [
          "CMD-SHELL",
          "nc -z 127.0.0.1 5672 || bash -c ': </dev/tcp/127.0.0.1/5672'",
        ]
        interval = 5
        timeout = 2
        retries = 10
      }
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group = aws_cloudwatch_log_group.bus.name
          awslogs-region = var.aws_region
          awslogs-stream-prefix = "bus"
        }
      }
    },
  ])
}

resource "aws_service_discovery_service" "bus" {
  name = "bus"
  dns_config {
    namespace_id = aws_service_discovery_private_dns_namespace.main.id
    routing_policy = "MULTIVALUE"
    dns_records {
      ttl = 10
      type = "A"
    }
  }
  health_check_custom_config {
    failure_threshold = 1
  }
}

resource "aws_ecs_service" "bus" {
  name = "bus"
  cluster = aws_ecs_cluster.main.id
  task_definition = aws_ecs_task_definition.bus.arn
  desired_count = 1
  launch_type = "FARGATE"
  network_configuration {
    subnets = var.subnet_ids
    security_groups = [aws_security_group.tasks.id]
    assign_public_ip = var.assign_public_ip
  }
  service_registries {
    registry_arn = aws_service_discovery_service.bus.arn
  }
}

resource "aws_secretsmanager_secret" "legacy_MARIADB_ROOT_PASSWORD" {
  name_prefix = "stdlib-all/legacy/MARIADB_ROOT_PASSWORD-"
  recovery_window_in_days = 0
}

resource "aws_secretsmanager_secret_version" "legacy_MARIADB_ROOT_PASSWORD" {
  secret_id = aws_secretsmanager_secret.legacy_MARIADB_ROOT_PASSWORD.id
  secret_string = random_password.legacy-password.result
}

resource "aws_cloudwatch_log_group" "legacy" {
  name = "/ecs/stdlib-all/legacy"
  retention_in_days = var.log_retention_days
}

resource "aws_ecs_task_definition" "legacy" {
  family = "stdlib-all-legacy"
  requires_compatibilities = ["FARGATE"]
  network_mode = "awsvpc"
  cpu = lookup(var.task_cpu, "legacy", 256)
  memory = lookup(var.task_memory, "legacy", 512)
  execution_role_arn = aws_iam_role.execution.arn
  container_definitions = jsonencode([
    {
      name = "legacy"
      image = "docker.io/library/mariadb:11.4.3"
      essential = true
      portMappings = [
        {
          name = "tcp"
          containerPort = 3306
          protocol = "tcp"
        },
      ]
      secrets = [
        {
          name = "MARIADB_ROOT_PASSWORD"
          valueFrom = aws_secretsmanager_secret.legacy_MARIADB_ROOT_PASSWORD.arn
        },
      ]
      healthCheck = {
        command = [
          "CMD-SHELL",
          "nc -z 127.0.0.1 3306 || bash -c ': </dev/tcp/127.0.0.1/3306'",
        ]
        interval = 5
        timeout = 2
        retries = 10
      }
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group = aws_cloudwatch_log_group.legacy.name
          awslogs-region = var.aws_region
          awslogs-stream-prefix = "legacy"
        }
      }
    },
  ])
}

resource "aws_service_discovery_service" "legacy" {
  name = "legacy"
  dns_config {
    namespace_id = aws_service_discovery_private_dns_namespace.main.id
    routing_policy = "MULTIVALUE"
    dns_records {
      ttl = 10
      type = "A"
    }
  }
  health_check_custom_config {
    failure_threshold = 1
  }
}

resource "aws_ecs_service" "legacy" {
  name = "legacy"
  cluster = aws_ecs_cluster.main.id
  task_definition = aws_ecs_task_definition.legacy.arn
  desired_count = 1
  launch_type = "FARGATE"
  network_configuration {
    subnets = var.subnet_ids
    security_groups = [aws_security_group.tasks.id]
    assign_public_ip = var.assign_public_ip
  }
  service_registries {
    registry_arn = aws_service_discovery_service.legacy.arn
  }
}

resource "aws_cloudwatch_log_group" "front" {
  name = "/ecs/stdlib-all/front"
  retention_in_days = var.log_retention_days
}

resource "aws_ecs_task_definition" "front" {
  family = "stdlib-all-front"
  requires_compatibilities = ["FARGATE"]
  network_mode = "awsvpc"
  cpu = lookup(var.task_cpu, "front", 256)
  memory = lookup(var.task_memory, "front", 512)
  execution_role_arn = aws_iam_role.execution.arn
  container_definitions = jsonencode([
    {
      name = "front"
      image = "docker.io/library/nginx:1.27.3"
      essential = true
      portMappings = [
        {
          name = "http"
          containerPort = 80
          protocol = "tcp"
        },
      ]
      healthCheck = {
        command = [
          "CMD-SHELL",
          "wget -q -O /dev/null http://127.0.0.1:80/ || curl -fsS -o /dev/null http://127.0.0.1:80/",
        ]
        interval = 5
        timeout = 2
        retries = 10
      }
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group = aws_cloudwatch_log_group.front.name
          awslogs-region = var.aws_region
          awslogs-stream-prefix = "front"
        }
      }
    },
  ])
}

resource "aws_service_discovery_service" "front" {
  name = "front"
  dns_config {
    namespace_id = aws_service_discovery_private_dns_namespace.main.id
    routing_policy = "MULTIVALUE"
    dns_records {
      ttl = 10
      type = "A"
    }
  }
  health_check_custom_config {
    failure_threshold = 1
  }
}

resource "aws_lb" "front" {
  internal = false
  load_balancer_type = "application"
  security_groups = [aws_security_group.alb.id]
  subnets = var.public_subnet_ids
}

resource "aws_lb_target_group" "front_http" {
  port = 80
  protocol = "HTTP"
  target_type = "ip"
  vpc_id = var.vpc_id
  health_check {
    path = "/"
    matcher = "200-399"
  }
}

resource "aws_lb_listener" "front_http" {
  load_balancer_arn = aws_lb.front.arn
  port = 8088
  protocol = "HTTP"
  default_action {
    type = "forward"
    target_group_arn = aws_lb_target_group.front_http.arn
  }
}

resource "aws_ecs_service" "front" {
  name = "front"
  cluster = aws_ecs_cluster.main.id
  task_definition = aws_ecs_task_definition.front.arn
  desired_count = 1
  launch_type = "FARGATE"
  network_configuration {
    subnets = var.subnet_ids
    security_groups = [aws_security_group.tasks.id]
    assign_public_ip = var.assign_public_ip
  }
  service_registries {
    registry_arn = aws_service_discovery_service.front.arn
  }
  load_balancer {
    target_group_arn = aws_lb_target_group.front_http.arn
    container_name = "front"
    container_port = 80
  }
  depends_on = [
    aws_lb_listener.front_http,
  ]
}

resource "aws_secretsmanager_secret" "api_ConnectionStrings__orders" {
  name_prefix = "stdlib-all/api/CONNECTIONSTRINGS__ORDERS-"
  recovery_window_in_days = 0
}

resource "aws_secretsmanager_secret_version" "api_ConnectionStrings__orders" {
  secret_id = aws_secretsmanager_secret.api_ConnectionStrings__orders.id
  secret_string = "Host=pg.stdlib-all.local;Port=5432;Username=postgres;Password=${random_password.pg-password.result};Database=orders"
}

resource "aws_secretsmanager_secret" "api_ConnectionStrings__users" {
  name_prefix = "stdlib-all/api/CONNECTIONSTRINGS__USERS-"
  recovery_window_in_days = 0
}

resource "aws_secretsmanager_secret_version" "api_ConnectionStrings__users" {
  secret_id = aws_secretsmanager_secret.api_ConnectionStrings__users.id
  secret_string = "Host=pg.stdlib-all.local;Port=5432;Username=postgres;Password=${random_password.pg-password.result};Database=users"
}

resource "aws_secretsmanager_secret" "api_ConnectionStrings__bus" {
  name_prefix = "stdlib-all/api/CONNECTIONSTRINGS__BUS-"
  recovery_window_in_days = 0
}

resource "aws_secretsmanager_secret_version" "api_ConnectionStrings__bus" {
  secret_id = aws_secretsmanager_secret.api_ConnectionStrings__bus.id
  secret_string = "amqp://guest:${random_password.bus-password.result}@bus.stdlib-all.local:5672"
}

resource "aws_cloudwatch_log_group" "api" {
  name = "/ecs/stdlib-all/api"
  retention_in_days = var.log_retention_days
}

resource "aws_ecs_task_definition" "api" {
  family = "stdlib-all-api"
  requires_compatibilities = ["FARGATE"]
  network_mode = "awsvpc"
  cpu = lookup(var.task_cpu, "api", 256)
  memory = lookup(var.task_memory, "api", 512)
  execution_role_arn = aws_iam_role.execution.arn
  container_definitions = jsonencode([
    {
      name = "api"
      image = var.api_image
      essential = true
      portMappings = [
        {
          name = "http"
          containerPort = 8080
          protocol = "tcp"
        },
      ]
      environment = [
        {
          name = "PYTHONUNBUFFERED"
          value = "1"
        },
        {
          name = "PORT"
          value = "8080"
        },
        {
          name = "ORDERS_HOST"
          value = "pg.stdlib-all.local"
        },
        {
          name = "ORDERS_PORT"
          value = "5432"
        },
        {
          name = "USERS_HOST"
          value = "pg.stdlib-all.local"
        },
        {
          name = "USERS_PORT"
          value = "5432"
        },
        {
          name = "ConnectionStrings__cache"
          value = "cache.stdlib-all.local:6379"
        },
        {
          name = "services__cache__tcp__0"
          value = "tcp://cache.stdlib-all.local:6379"
        },
        {
          name = "CACHE_TCP"
          value = "tcp://cache.stdlib-all.local:6379"
        },
        {
          name = "CACHE_HOST"
          value = "cache.stdlib-all.local"
        },
        {
          name = "CACHE_PORT"
          value = "6379"
        },
        {
          name = "CACHE_URI"
          value = "tcp://cache.stdlib-all.local:6379"
        },
        {
          name = "services__bus__tcp__0"
          value = "tcp://bus.stdlib-all.local:5672"
        },
        {
          name = "BUS_TCP"
          value = "tcp://bus.stdlib-all.local:5672"
        },
        {
          name = "BUS_HOST"
          value = "bus.stdlib-all.local"
        },
        {
          name = "BUS_PORT"
          value = "5672"
        },
        {
          name = "BUS_URI"
          value = "tcp://bus.stdlib-all.local:5672"
        },
      ]
      secrets = [
        {
          name = "ConnectionStrings__orders"
          valueFrom = aws_secretsmanager_secret.api_ConnectionStrings__orders.arn
        },
        {
          name = "ConnectionStrings__users"
          valueFrom = aws_secretsmanager_secret.api_ConnectionStrings__users.arn
        },
        {
          name = "ConnectionStrings__bus"
          valueFrom = aws_secretsmanager_secret.api_ConnectionStrings__bus.arn
        },
      ]
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group = aws_cloudwatch_log_group.api.name
          awslogs-region = var.aws_region
          awslogs-stream-prefix = "api"
        }
      }
    },
  ])
}

resource "aws_service_discovery_service" "api" {
  name = "api"
  dns_config {
    namespace_id = aws_service_discovery_private_dns_namespace.main.id
    routing_policy = "MULTIVALUE"
    dns_records {
      ttl = 10
      type = "A"
    }
  }
  health_check_custom_config {
    failure_threshold = 1
  }
}

resource "aws_ecs_service" "api" {
  name = "api"
  cluster = aws_ecs_cluster.main.id
  task_definition = aws_ecs_task_definition.api.arn
  desired_count = 1
  launch_type = "FARGATE"
  network_configuration {
    subnets = var.subnet_ids
    security_groups = [aws_security_group.tasks.id]
    assign_public_ip = var.assign_public_ip
  }
  service_registries {
    registry_arn = aws_service_discovery_service.api.arn
  }
  depends_on = [
    aws_ecs_service.pg,
    aws_ecs_service.cache,
    aws_ecs_service.bus,
  ]
}

resource "aws_secretsmanager_secret" "ui_ConnectionStrings__reports" {
  name_prefix = "stdlib-all/ui/CONNECTIONSTRINGS__REPORTS-"
  recovery_window_in_days = 0
}

resource "aws_secretsmanager_secret_version" "ui_ConnectionStrings__reports" {
  secret_id = aws_secretsmanager_secret.ui_ConnectionStrings__reports.id
  secret_string = "Server=legacy.stdlib-all.local;Port=3306;User ID=root;Password=${random_password.legacy-password.result};Database=reports"
}

resource "aws_cloudwatch_log_group" "ui" {
  name = "/ecs/stdlib-all/ui"
  retention_in_days = var.log_retention_days
}

resource "aws_ecs_task_definition" "ui" {
  family = "stdlib-all-ui"
  requires_compatibilities = ["FARGATE"]
  network_mode = "awsvpc"
  cpu = lookup(var.task_cpu, "ui", 256)
  memory = lookup(var.task_memory, "ui", 512)
  execution_role_arn = aws_iam_role.execution.arn
  container_definitions = jsonencode([
    {
      name = "ui"
      image = var.ui_image
      essential = true
      portMappings = [
        {
          name = "http"
          containerPort = 8080
          protocol = "tcp"
        },
      ]
      environment = [
        {
          name = "PORT"
          value = "8080"
        },
        {
          name = "services__api__http__0"
          value = "http://api.stdlib-all.local:8080"
        },
        {
          name = "API_HTTP"
          value = "http://api.stdlib-all.local:8080"
        },
        {
          name = "API_HOST"
          value = "api.stdlib-all.local"
        },
        {
          name = "API_PORT"
          value = "8080"
        },
        {
          name = "API_URI"
          value = "http://api.stdlib-all.local:8080"
        },
        {
          name = "REPORTS_HOST"
          value = "legacy.stdlib-all.local"
        },
        {
          name = "REPORTS_PORT"
          value = "3306"
        },
      ]
      secrets = [
        {
          name = "ConnectionStrings__reports"
          valueFrom = aws_secretsmanager_secret.ui_ConnectionStrings__reports.arn
        },
      ]
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group = aws_cloudwatch_log_group.ui.name
          awslogs-region = var.aws_region
          awslogs-stream-prefix = "ui"
        }
      }
    },
  ])
}

resource "aws_service_discovery_service" "ui" {
  name = "ui"
  dns_config {
    namespace_id = aws_service_discovery_private_dns_namespace.main.id
    routing_policy = "MULTIVALUE"
    dns_records {
      ttl = 10
      type = "A"
    }
  }
  health_check_custom_config {
    failure_threshold = 1
  }
}

resource "aws_ecs_service" "ui" {
  name = "ui"
  cluster = aws_ecs_cluster.main.id
  task_definition = aws_ecs_task_definition.ui.arn
  desired_count = 1
  launch_type = "FARGATE"
  network_configuration {
    subnets = var.subnet_ids
    security_groups = [aws_security_group.tasks.id]
    assign_public_ip = var.assign_public_ip
  }
  service_registries {
    registry_arn = aws_service_discovery_service.ui.arn
  }
  depends_on = [
    aws_ecs_service.api,
  ]
}

# The tasks read their secrets when they start.
resource "aws_iam_role_policy" "secrets" {
  role = aws_iam_role.execution.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect = "Allow"
        Action = ["secretsmanager:GetSecretValue"]
        Resource = [
          aws_secretsmanager_secret.pg_POSTGRES_PASSWORD.arn,
          aws_secretsmanager_secret.bus_RABBITMQ_DEFAULT_PASS.arn,
          aws_secretsmanager_secret.legacy_MARIADB_ROOT_PASSWORD.arn,
          aws_secretsmanager_secret.api_ConnectionStrings__orders.arn,
          aws_secretsmanager_secret.api_ConnectionStrings__users.arn,
          aws_secretsmanager_secret.api_ConnectionStrings__bus.arn,
          aws_secretsmanager_secret.ui_ConnectionStrings__reports.arn,
        ]
      },
    ]
  })
}

resource "aws_security_group" "alb" {
  name_prefix = "stdlib-all-alb-"
  description = "the load balancer of the app's external endpoints"
  vpc_id = var.vpc_id
  ingress {
    from_port = 0
    to_port = 65535
    protocol = "tcp"
    cidr_blocks = var.ingress_cidr_blocks
  }
  egress {
    from_port = 0
    to_port = 0
    protocol = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_security_group_rule" "tasks_from_alb" {
  type = "ingress"
  from_port = 0
  to_port = 65535
  protocol = "tcp"
  security_group_id = aws_security_group.tasks.id
  source_security_group_id = aws_security_group.alb.id
}

# parameter pg-password: generated
resource "random_password" "pg-password" {
  length = 22
  lower = true
  upper = true
  numeric = true
  special = false
  min_lower = 1
  min_upper = 1
  min_numeric = 1
}

# parameter bus-password: generated
resource "random_password" "bus-password" {
  length = 22
  lower = true
  upper = true
  numeric = true
  special = false
  min_lower = 1
  min_upper = 1
  min_numeric = 1
}

# parameter legacy-password: generated
resource "random_password" "legacy-password" {
  length = 22
  lower = true
  upper = true
  numeric = true
  special = false
  min_lower = 1
  min_upper = 1
  min_numeric = 1
}
